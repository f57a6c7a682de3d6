"""The sign-in form's CSRF token, kept without a server-side session.

A visitor who has not signed in must cost the session store nothing: every stored session is one
more file or Redis key that anyone could make by loading the sign-in page. So the form's token is
a double-submit one: a random value in a cookie of its own (sent only to the sign-in page), and in
the form the same value signed with the app's secret. Another site can neither read the cookie nor
sign a value of its own.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, g, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from webapp.web.csrf_mask import masked_once, unmask

COOKIE = "signin_check"
MAX_AGE = 24 * 3600  # seconds a sign-in page may stay open


def init_app(app: Flask) -> None:
    app.after_request(_set_cookie)


def form_token() -> str:
    """The token for the sign-in form; a new cookie value when the browser has none yet."""
    value = request.cookies.get(COOKIE) or g.get("new_signin_check")
    if not value:
        value = g.new_signin_check = secrets.token_urlsafe(32)
    return masked_once(_signer().dumps(value))  # the sign-in page echoes `next`: see csrf_mask


def valid(token: str | None) -> bool:
    value = request.cookies.get(COOKIE)
    try:
        signed = _signer().loads(unmask(token) or "", max_age=MAX_AGE)
    except BadData:
        return False
    return bool(value) and isinstance(signed, str) and hmac.compare_digest(signed, value)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="sign-in form")


def _set_cookie(response):
    if value := g.pop("new_signin_check", None):
        response.set_cookie(COOKIE, value, max_age=MAX_AGE, path=url_for("auth.login"), httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response
