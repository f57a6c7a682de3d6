"""Error pages, htmx-aware: a partial for htmx requests, a full page otherwise. Never a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import htmx

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "That request is too large.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on the desk. Try again, and tell the team if it repeats.",
}


def render_error(status: int, message: str):
    if not htmx:
        return render_template("errors/error.html", status=status, message=message), status
    # An htmx request shows the error in the page's alert region, leaving the panel it aimed at intact.
    body = render_template("partials/error.html", status=status, message=message)
    return body, status, {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML"}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, "This form has expired or did not come from the desk. "
                                 "Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return render_error(exc.code or 500, MESSAGES.get(exc.code, exc.description))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("unhandled error")
        return render_error(500, MESSAGES[InternalServerError.code])
