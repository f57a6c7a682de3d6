"""An operator's language as the desk keeps it: chosen with the header's switch, or on the sign-in page
before signing in (the page's address carries it, `?lang=`). Kept in the preferences store, so it
outlives the session and reaches every instance."""

from __future__ import annotations

import logging

from flask import flash, request
from flask_babel import gettext as _

from webapp.config import LANGUAGES
from webapp.web.services import services

log = logging.getLogger(__name__)


def address_language() -> str | None:
    """The language chosen on the sign-in page, before anyone is signed in."""
    chosen = request.args.get("lang")
    return chosen if chosen in LANGUAGES else None


def chosen_language(username: str) -> str | None:
    try:
        chosen = services().preferences.get(username).get("locale")
    except Exception:  # the store is away: the page still shows, in the next language in line
        log.warning("preferences: the store is not answering")
        return None
    return chosen if chosen in LANGUAGES else None


def keep_language(username: str, chosen: str) -> None:
    """Keep `chosen` as the operator's language; if the store cannot, say so."""
    try:
        services().preferences.set(username, locale=chosen)
    except Exception:  # the store is away: the page comes back in the language it had
        log.warning("preferences: the store is not answering; a language choice was not kept")
        flash(_("Your language could not be kept just now (the desk's store is not answering). "
                "Try again in a moment."), "error")
