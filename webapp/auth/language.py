"""Which language a page speaks, and the switch in the header that chooses it.

In order: what the operator chose with the switch (kept in the preferences store, so it outlives the
session and reaches every instance), the "locale" of their TEAM_USERS entry, the browser's
Accept-Language, then DEFAULT_LOCALE. The sign-in page has no operator yet: it follows the language
chosen on it (`?lang=`, carried in its links and its form), else the browser; a choice made there
becomes the operator's when they sign in.
"""

from __future__ import annotations

import logging

from babel import negotiate_locale
from flask import Blueprint, abort, current_app, g, has_request_context, redirect, request

from webapp.auth.preferences import address_language, chosen_language, keep_language
from webapp.auth.team import current_operator, safe_next, team_users
from webapp.config import LANGUAGES

log = logging.getLogger(__name__)
bp = Blueprint("language", __name__)

#: Each language named in itself, as the switch shows it.
def choose_language() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    operator = current_operator()
    if operator:
        chosen = chosen_language(operator["username"])
        if chosen:
            return chosen
        entry = team_users(current_app).get(operator["username"]) or {}
        if entry.get("locale") in LANGUAGES:
            return entry["locale"]
    elif address_language():
        return address_language()
    g.language_from_browser = True  # the response must say so (Vary), see _vary
    # In the browser's order of preference, "ru-RU" counting as "ru": werkzeug's best_match would
    # prefer an exact "en;q=0.1" to a preferred "ru-RU".
    wanted = [tag.lower() for tag, _quality in request.accept_languages]
    return negotiate_locale(wanted, LANGUAGES, sep="-") or current_app.config["DEFAULT_LOCALE"]


def account_timezone() -> str:
    """Flask-Babel's time zone selector: times are shown in the account's zone, else in UTC."""
    return current_app.config["ACCOUNT_TIMEZONE"] or "UTC"


@bp.post("/language")
def switch():
    """The header's switch: kept for this operator, then back to the page it was pressed on."""
    chosen = request.form.get("locale", "")
    if chosen not in LANGUAGES:
        abort(400)
    keep_language(current_operator()["username"], chosen)
    return redirect(safe_next(request.form.get("next")), 303)


def _vary(response):
    if g.get("language_from_browser"):
        response.vary.add("Accept-Language")
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.after_request(_vary)
