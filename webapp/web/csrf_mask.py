"""CSRF tokens masked afresh for every response, so that compression cannot leak them (BREACH).

Pages travel compressed and some echo what a URL carries (a prefill link, a filter, the sign-in
page's `next`). A token that repeats from page to page lets someone who can make a victim load chosen
URLs guess it a byte at a time by the compressed size. So a page never carries the token itself:
it carries a random pad and the token XOR that pad, new for each response (one value within a
response, so its repeats still compress). A posted value is unmasked before it is checked; a value
that is not masked (a form rendered before this) is checked as it is.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect, _FlaskFormCSRF, generate_csrf


def mask(token: str) -> str:
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(raw, pad, strict=True))).decode()


def unmask(value):
    """The token a masked value carries; anything else as it came (the checks then judge it)."""
    if not isinstance(value, str) or not value:
        return value
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except (ValueError, binascii.Error):
        return value
    half = len(raw) // 2
    if not half or len(raw) % 2:
        return value
    try:
        return bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=True)).decode("ascii")
    except UnicodeDecodeError:
        return value


def masked_once(token: str) -> str:
    """The masked value of `token` for this response: the same wherever the page repeats it."""
    kept = g.get("_masked_csrf")
    if not kept or kept[0] != token:
        kept = g._masked_csrf = (token, mask(token))
    return kept[1]


def masked_csrf_token() -> str:
    return masked_once(generate_csrf())


class MaskedCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF protection, reading masked tokens and giving templates masked ones."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        # Flask-WTF offers csrf_token as a global and from a context processor; a later processor wins.
        app.jinja_env.globals["csrf_token"] = masked_csrf_token
        app.context_processor(lambda: {"csrf_token": masked_csrf_token})

    def _get_csrf_token(self):
        return unmask(super()._get_csrf_token())


class MaskedFormCSRF(_FlaskFormCSRF):
    """A FlaskForm's own csrf_token field, masked like the rest."""

    def generate_csrf_token(self, csrf_token_field):
        return masked_once(super().generate_csrf_token(csrf_token_field))

    def validate_csrf_token(self, form, field):
        field.data = unmask(field.data)
        super().validate_csrf_token(form, field)
