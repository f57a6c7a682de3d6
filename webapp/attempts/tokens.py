"""One form, one order: one-time submission tokens.

Every rendered order form carries a fresh token. The submit that claims it first sends the order;
a second submit of the same form (double click, resend after a timeout, a second tab) loses the
claim and can show what the first one produced instead of creating a second order.

Issuing is stateless (nothing is stored for a form that is never sent); a token is stored when
claimed, holding the id of the attempt recorded for it, in a storage.TokenStore (files, or Redis when
REDIS_URL is set). Claims expire with the session lifetime.

A token is bound to the operator it was issued to: half of it is random, half a MAC of that half and
the operator's name, so a token another operator posts (a stolen or shared form) is refused before
it can claim anything, and its owner's own post still sends the order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from webapp.storage.interfaces import TokenStore

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url: 128 random bits and a 128-bit MAC


class SubmissionTokens:
    """new / issued_to / claim / outcome / release over a token store. `secret` (the app's SECRET_KEY)
    signs which operator a token was issued to; only well-formed tokens reach the store."""

    def __init__(self, store: TokenStore, secret: str):
        self.store, self.secret = store, secret.encode()

    def new(self, owner: str) -> str:
        nonce = secrets.token_bytes(16)
        return base64.urlsafe_b64encode(nonce + self._mac(nonce, owner)).decode().rstrip("=")

    def issued_to(self, token, owner: str) -> bool:
        """True when `token` was issued by this desk to `owner` (names compare without case)."""
        if not valid(token):
            return False
        raw = base64.urlsafe_b64decode(token + "=")
        return hmac.compare_digest(raw[16:], self._mac(raw[:16], owner))

    def _mac(self, nonce: bytes, owner: str) -> bytes:
        return hmac.new(self.secret, nonce + owner.casefold().encode(), hashlib.sha256).digest()[:16]

    def claim(self, token, entry_id: str = "") -> bool:
        """True for exactly one caller per token, across threads and processes. The claim holds the
        id of the attempt it is about to record, so a twin post always learns which attempt it was."""
        return valid(token) and self.store.claim(token, str(entry_id))

    def outcome(self, token) -> str | None:
        """The attempt id the token was claimed for; None if never claimed."""
        if not valid(token):
            return None
        return self.store.outcome(token)

    def is_claimed(self, token) -> bool:
        return self.outcome(token) is not None

    def release(self, token) -> None:
        """Give a claim back: the attempt was never recorded, so nothing was sent for this form."""
        if valid(token):
            self.store.release(token)


def valid(token) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None
