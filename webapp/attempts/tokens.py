"""One form, one order: one-time submission tokens.

Every rendered order form carries a fresh token. The submit that claims it first sends the order;
a second submit of the same form (double click, resend after a timeout, a second tab) loses the
claim and can show what the first one produced instead of creating a second order.

Issuing is stateless (nothing is stored for a form that is never sent); a token is stored when
claimed, holding the id of the attempt recorded for it. Tokens expire with the session lifetime.

A token is bound to the operator it was issued to: half of it is random, half a MAC of that half and
the operator's name, so a token another operator posts (a stolen or shared form) is refused before
it can claim anything, and its owner's own post still sends the order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from contextlib import suppress

from webapp.storage.files import SWEEP_EVERY, ExpiringFolder

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 bytes, base64url: 128 random bits and a 128-bit MAC


class SubmissionTokens:
    """new / issued_to / claim / outcome / release; the stores below supply `_claim`, `_state` and
    `_release`. `secret` (the app's SECRET_KEY) signs which operator a token was issued to."""

    secret: bytes = b""

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
        return valid(token) and self._claim(token, str(entry_id))

    def outcome(self, token) -> str | None:
        """The attempt id the token was claimed for; None if never claimed."""
        if not valid(token):
            return None
        return self._state(token)

    def is_claimed(self, token) -> bool:
        return self.outcome(token) is not None

    def release(self, token) -> None:
        """Give a claim back: the attempt was never recorded, so nothing was sent for this form."""
        if valid(token):
            self._release(token)

    def _claim(self, token: str, entry_id: str) -> bool:
        raise NotImplementedError

    def _state(self, token: str) -> str | None:
        raise NotImplementedError

    def _release(self, token: str) -> None:
        raise NotImplementedError


def valid(token) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


class FileTokens(SubmissionTokens, ExpiringFolder):
    """A file per claimed token, holding the attempt id."""

    def __init__(self, directory: str, lifetime: float, sweep_every: float = SWEEP_EVERY, secret: str = ""):
        ExpiringFolder.__init__(self, directory, lifetime, folders=False, sweep_every=sweep_every)
        self.secret = secret.encode()

    def _claim(self, token: str, entry_id: str) -> bool:
        self._maybe_sweep()
        fd, draft = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(entry_id)
            # link() creates the name only if it is free, and the file appears with its content:
            # exactly one claimer wins, and nobody ever reads a claim without its attempt id.
            os.link(draft, os.path.join(self.root, token))
        except FileExistsError:
            return False
        finally:
            with suppress(OSError):
                os.unlink(draft)
        return True

    def _state(self, token: str) -> str | None:
        try:
            with open(os.path.join(self.root, token), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def _release(self, token: str) -> None:
        with suppress(FileNotFoundError):
            os.unlink(os.path.join(self.root, token))


class RedisTokens(SubmissionTokens):
    """A key per claimed token, holding the attempt id: SET NX EX claims it."""

    prefix = "orderdesk:token:"

    def __init__(self, client, lifetime: float, secret: str = ""):
        self.client, self.ttl, self.secret = client, max(1, int(lifetime)), secret.encode()

    def _claim(self, token: str, entry_id: str) -> bool:
        return bool(self.client.set(self.prefix + token, entry_id, nx=True, ex=self.ttl))

    def _state(self, token: str) -> str | None:
        raw = self.client.get(self.prefix + token)
        return None if raw is None else raw.decode()

    def _release(self, token: str) -> None:
        self.client.delete(self.prefix + token)


def make_tokens(app, redis_client=None) -> SubmissionTokens:
    """The token store: in Redis when the app has a client for it, else files under instance/tokens/."""
    lifetime, secret = app.permanent_session_lifetime.total_seconds(), str(app.config["SECRET_KEY"])
    if redis_client is not None:
        return RedisTokens(redis_client, lifetime, secret)
    return FileTokens(os.path.join(app.instance_path, "tokens"), lifetime, secret=secret)
