"""One form, one order: one-time submission tokens.

Every rendered order form carries a fresh token. The submit that claims it first sends the order;
a second submit of the same form (double click, resend after a timeout, a second tab) loses the
claim and can show what the first one produced instead of creating a second order.

Issuing is stateless (nothing is stored for a form that is never sent); a token is stored when
claimed, then holds the history entry id it produced. Tokens expire with the session lifetime.
"""

from __future__ import annotations

import os
import re
import secrets
import time

from .filestore import SWEEP_EVERY, ExpiringFolder, write_atomically

TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 bits
POLL = 0.05  # seconds between two looks while waiting for a claim in flight to settle


class SubmissionTokens:
    """new / claim / settle / outcome; the stores below supply `_claim`, `_settle` and `_state`."""

    def new(self) -> str:
        return secrets.token_urlsafe(32)

    def claim(self, token) -> bool:
        """True for exactly one caller per token, across threads and processes."""
        return valid(token) and self._claim(token)

    def settle(self, token, entry_id: str) -> None:
        """Remember the history entry the claimed token produced."""
        if not valid(token) or not entry_id:
            raise ValueError("settle needs a well-formed token and an entry id")
        self._settle(token, str(entry_id))

    def outcome(self, token, wait: float = 0) -> str | None:
        """The entry id the token produced; None if never claimed, or still in flight after `wait` s."""
        if not valid(token):
            return None
        deadline = time.monotonic() + wait
        while True:
            state = self._state(token)  # None: not claimed; "": claimed, not settled yet
            left = deadline - time.monotonic()
            if state is None or state or left <= 0:
                return state or None
            time.sleep(min(POLL, left))

    def _claim(self, token: str) -> bool:
        raise NotImplementedError

    def _settle(self, token: str, entry_id: str) -> None:
        raise NotImplementedError

    def _state(self, token: str) -> str | None:
        raise NotImplementedError


def valid(token) -> bool:
    return isinstance(token, str) and TOKEN.fullmatch(token) is not None


class FileTokens(SubmissionTokens, ExpiringFolder):
    """A file per claimed token: created empty by the claim, then holding the entry id."""

    def __init__(self, directory: str, lifetime: float, sweep_every: float = SWEEP_EVERY):
        ExpiringFolder.__init__(self, directory, lifetime, folders=False, sweep_every=sweep_every)

    def _claim(self, token: str) -> bool:
        self._maybe_sweep()
        path = os.path.join(self.root, token)
        try:  # O_EXCL: the kernel lets exactly one open create the file, whoever asks
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        return True

    def _settle(self, token: str, entry_id: str) -> None:
        # Replacing the claim file keeps it present (later claims still fail) and never half-written.
        write_atomically(os.path.join(self.root, token), entry_id)

    def _state(self, token: str) -> str | None:
        try:
            with open(os.path.join(self.root, token), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None



class RedisTokens(SubmissionTokens):
    """A key per claimed token: SET NX EX claims it, the value becomes the entry id."""

    prefix = "orderdesk:token:"

    def __init__(self, client, lifetime: float):
        self.client, self.ttl = client, max(1, int(lifetime))

    def _claim(self, token: str) -> bool:
        return bool(self.client.set(self.prefix + token, "", nx=True, ex=self.ttl))

    def _settle(self, token: str, entry_id: str) -> None:
        self.client.set(self.prefix + token, entry_id, ex=self.ttl)

    def _state(self, token: str) -> str | None:
        raw = self.client.get(self.prefix + token)
        return None if raw is None else raw.decode()


def make_tokens(app, redis_client=None) -> SubmissionTokens:
    """The token store: in Redis when the app has a client for it, else files under instance/tokens/."""
    lifetime = app.permanent_session_lifetime.total_seconds()
    if redis_client is not None:
        return RedisTokens(redis_client, lifetime)
    return FileTokens(os.path.join(app.instance_path, "tokens"), lifetime)
