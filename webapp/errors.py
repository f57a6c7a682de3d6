"""Error pages, htmx-aware: a partial for htmx requests, a full page otherwise. Never a bare 500."""

from __future__ import annotations

import logging

import redis
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from . import htmx
from .forms import LoginForm
from .views import posted_order_again

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "That request is too large.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on the desk. Try again, and tell the team if it repeats.",
    503: ("The desk cannot reach its shared store (Redis) right now, so this page cannot be shown. "
          "Try again in a minute. If you were sending an order, look at the history before sending "
          "it again."),
}


def _store_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)


def render_error(status: int, message: str):
    if not htmx:
        return render_template("errors/error.html", status=status, message=message), status
    # An htmx request shows the error in the page's alert region, leaving the panel it aimed at intact.
    body = render_template("partials/error.html", status=status, message=message)
    return body, status, {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML"}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        if request.endpoint == "orders.submit":
            return posted_order_again(400, "This form had expired, so nothing was sent. Everything you "
                                           "typed is below: check it and send again.")
        return render_error(400, "This form has expired or did not come from the desk. "
                                 "Reload the page and try again.")

    @app.errorhandler(429)
    def too_many(exc):
        if request.endpoint == "orders.submit":
            return posted_order_again(429, "Too many orders were sent from your account in the last "
                                           f"minute (limit: {exc.description}). Nothing was sent: wait a "
                                           "moment and send again.")
        if request.endpoint == "auth.login":
            return render_template("login.html", form=LoginForm(), demo=None, throttled=True), 429
        return render_error(429, MESSAGES[429])

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
        return render_error(503, MESSAGES[503])
