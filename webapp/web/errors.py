"""Error pages, htmx-aware: a partial for htmx requests, a full page otherwise. Never a bare 500."""

from __future__ import annotations

import logging

import redis
from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.storage.sessions import SessionNotSaved
from webapp.web.extensions import htmx

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that kind of request."),
    413: _l("That request is larger than any order can be (the desk reads at most 512 KB), so it was "
            "not read and nothing was sent."),
    429: _l("Too many requests. Wait a moment and try again."),
    500: _l("Something went wrong on the desk. Try again, and tell the team if it repeats."),
    "csrf": _l("This form has expired or did not come from the desk. Reload the page and try again."),
    # Over HTTPS a form must also name the desk's page it came from; reloading cannot fix that.
    "csrf-referrer": _l("Your browser did not say that this form came from the desk's own page (its "
                        "Referer header was missing or named another address), so nothing was sent. "
                        "Sending it again will not help: let the browser send the Referer header to "
                        "this site (a privacy setting or extension removes it)."),
    503: _l("The desk cannot reach its shared store (Redis, or its instance folder) right now, so this "
            "page cannot be shown. Try again in a minute. If you were sending an order, look at the "
            "history before sending it again."),
    "sign-in-503": _l("You are not signed in: the desk cannot keep sign-ins right now, because its "
                      "store (Redis, or its instance folder) is failing. Try again in a minute, and tell "
                      "the team if it repeats."),
}


def _store_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError | SessionNotSaved)


def csrf_message(exc: CSRFError) -> str:
    return MESSAGES["csrf-referrer"] if "referrer" in (exc.description or "") else MESSAGES["csrf"]


def render_error(status: int, message: str):
    if not htmx:
        return render_template("errors/error.html", status=status, message=message), status
    # An htmx request shows the error in the page's alert region, leaving the panel it aimed at intact.
    body = render_template("errors/error_region.html", status=status, message=message)
    return body, status, {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML"}


def register(app: Flask) -> None:
    # Blueprints answer these their own way where they can keep the operator's input (views, auth).
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, csrf_message(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # Failures outside a view (opening the session) reach here as a 500 wrapping the cause.
        if _store_unavailable(getattr(exc, "original_exception", None)):
            return store_unavailable(exc.original_exception)
        return render_error(exc.code or 500, MESSAGES.get(exc.code, exc.description))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if _store_unavailable(exc):
            return store_unavailable(exc)
        log.exception("unhandled error")
        return render_error(500, MESSAGES[InternalServerError.code])

    def store_unavailable(exc):
        log.error("shared store unavailable: %s", type(exc).__name__)
        return render_error(503, MESSAGES["sign-in-503" if request.endpoint == "auth.login" else 503])
