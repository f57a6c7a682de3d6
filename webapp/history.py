"""The operator's order history: every submission attempt of their session, newest first.

The attempts live in a store of their own (files, or Redis when REDIS_URL is set), keyed by a
history id kept in the session. The session blob is saved whole per request, so a list inside it
loses entries when two requests of one session overlap; a store with atomic appends does not.
"""

from __future__ import annotations

import csv
import fcntl
import hmac
import io
import json
import os
import shutil
import time
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from flask import current_app, session

from .filestore import SWEEP_EVERY, ExpiringFolder, write_atomically
from .orders import CREATEORDER_FIELDS

# outcome -> what the operator reads
OUTCOMES = {
    "created": "Created",
    "rejected": "Rejected by JustClick",
    "unknown": "Unknown: check in JustClick",
    "not_sent": "Not sent: JustClick unreachable",
}


def record(**attempt) -> dict:
    """Add an attempt (newest first) and return it. See `new_entry` for its fields."""
    entry = new_entry(**attempt)
    _store().append(_history_id(), entry, current_app.config["HISTORY_LIMIT"])
    return entry


def new_entry(*, outcome: str, sent: dict, reply, code: int | None = None, text: str = "",
              operator: str | None = None, extra: dict | None = None) -> dict:
    """An attempt as the history keeps it. `sent` must never contain the rpsKey."""
    assert "rpsKey" not in sent
    return {
        "id": uuid.uuid4().hex[:12],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "operator": operator,
        "outcome": outcome,
        "code": code,
        "text": text,
        "sent": sent,
        "reply": reply,
        **(extra or {}),
    }


def entries(outcome: str | None = None, limit: int | None = None) -> list[dict]:
    """Newest first; `limit` reads only that many newest attempts (before filtering by outcome)."""
    hid = _history_id()
    items = _store().items(hid, limit) if hid else []
    return [e for e in items if e["outcome"] == outcome] if outcome else items


def dropped() -> int:
    hid = _history_id()
    return _store().dropped(hid) if hid else 0


def find(entry_id: str) -> dict | None:
    hid = _history_id()
    return _store().find(hid, entry_id) if hid and entry_id else None


def clear() -> None:
    if hid := _history_id():
        _store().clear(hid)


#: How far back a created order with the same email and products counts as a likely duplicate.
DUPLICATE_WINDOW = timedelta(minutes=15)
#: How many recent attempts are searched for one: a double order follows its twin closely, and a
#: long session must not read its whole history on every submit.
DUPLICATE_LOOKBACK = 20


def earlier_attempt_to_confirm(params: dict, token: str) -> dict | None:
    """An earlier attempt that makes this one risky: the same order created minutes ago, or one
    whose outcome is unknown (it may exist). The operator must confirm against that attempt.
    Attempts of this very form are not "earlier": a replay of it is answered with its outcome."""
    same = [e for e in entries(limit=DUPLICATE_LOOKBACK)
            if _order_key(e["sent"]) == _order_key(params) and e.get("token") != token]
    now = datetime.now(UTC)
    for entry in same:  # newest first
        if entry["outcome"] == "unknown":
            return entry
        if entry["outcome"] == "created" and now - datetime.fromisoformat(entry["at"]) <= DUPLICATE_WINDOW:
            return entry
    return None


def _order_key(params: dict) -> tuple:
    products = sorted(params.get("product_names", "").split(","))
    return params.get("customer_email", "").casefold(), tuple(products)


CSV_COLUMNS = ("time", "operator", "outcome", "code", "text", *CREATEORDER_FIELDS)


def to_csv(items: list[dict]) -> str:
    """One row per attempt; a UTF-8 BOM so spreadsheets open Cyrillic correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in items:
        row = [e["at"], e.get("operator") or "", OUTCOMES[e["outcome"]], e.get("code") or "", e["text"]]
        row += [e["sent"].get(name, "") for name in CREATEORDER_FIELDS]
        writer.writerow([_as_cell(value) for value in row])
    return out.getvalue()


def _as_cell(value) -> str:
    """Text a spreadsheet shows as text: a customer's "=HYPERLINK(…)" must not become a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _store():
    return current_app.extensions["history_store"]


def _history_id() -> str | None:
    """The history of this browser session, derived from its (random) session id.

    Derived, not stored in the session: requests of one session that overlap (a double click, two
    tabs) all agree on it without writing the session. Keyed, so the store's names do not reveal
    session ids. A new session (sign-in regenerates it) starts a new history.
    """
    sid = getattr(session, "sid", None)
    if not sid:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, sid.encode(), "sha256").hexdigest()[:32]


def make_store(app, redis_client=None):
    """The history store: in Redis when the app has a client for it, else files in the instance folder."""
    lifetime = app.permanent_session_lifetime.total_seconds()
    if redis_client is not None:
        return RedisHistory(redis_client, lifetime)
    return FileHistory(os.path.join(app.instance_path, "history"), lifetime)


class FileHistory(ExpiringFolder):
    """A directory per history id, one JSON file per attempt named `<time_ns>-<id>.json`."""

    def __init__(self, root: str, lifetime: float, sweep_every: float = SWEEP_EVERY):
        super().__init__(root, lifetime, folders=True, sweep_every=sweep_every)

    def _folder(self, hid: str) -> str:
        if not hid.isalnum():  # it becomes a path
            raise ValueError(f"bad history id {hid!r}")
        return os.path.join(self.root, hid)

    def append(self, hid: str, entry: dict, limit: int) -> None:
        folder = self._folder(hid)
        name = f"{time.time_ns():020d}-{entry['id']}.json"
        data = json.dumps(entry, ensure_ascii=False, default=str)
        for attempt in range(2):  # a sweep or a clear may remove the folder between makedirs and write
            os.makedirs(folder, exist_ok=True)
            try:
                write_atomically(os.path.join(folder, name), data)
                break
            except FileNotFoundError:
                if attempt:
                    raise
        if len(self._names(folder)) > limit:
            self._trim(folder, limit)
        self._maybe_sweep()

    def _trim(self, folder: str, limit: int) -> None:
        # One trimmer at a time (threads and processes alike), so each dropped file counts once.
        with open(os.path.join(folder, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            excess = self._names(folder)[limit:]
            for name in excess:
                with suppress(OSError):
                    os.unlink(os.path.join(folder, name))
            if excess:
                write_atomically(os.path.join(folder, "dropped"), str(self._dropped(folder) + len(excess)))

    @staticmethod
    def _names(folder: str) -> list[str]:
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted((n for n in names if n.endswith(".json") and not n.startswith(".")), reverse=True)

    def items(self, hid: str, limit: int | None = None) -> list[dict]:
        folder = self._folder(hid)
        names = self._names(folder)[:limit]  # names sort by time: the newest come first
        return [e for name in names if (e := self._read(os.path.join(folder, name)))]

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:  # trimmed or cleared while we listed
            return None

    def find(self, hid: str, entry_id: str) -> dict | None:
        folder = self._folder(hid)
        name = next((n for n in self._names(folder) if n.endswith(f"-{entry_id}.json")), None)
        return self._read(os.path.join(folder, name)) if name else None

    def dropped(self, hid: str) -> int:
        return self._dropped(self._folder(hid))

    @staticmethod
    def _dropped(folder: str) -> int:
        try:
            with open(os.path.join(folder, "dropped"), encoding="utf-8") as f:
                return int(f.read() or 0)
        except FileNotFoundError:
            return 0

    def clear(self, hid: str) -> None:
        shutil.rmtree(self._folder(hid), ignore_errors=True)


# Push, trim to the cap and count what the trim dropped in one atomic step: a MULTI block cannot
# feed LPUSH's reply (the new length) into INCRBY, a script can.
_APPEND = """
local n = redis.call('LPUSH', KEYS[1], ARGV[1])
local limit = tonumber(ARGV[2])
if n > limit then
  if limit > 0 then redis.call('LTRIM', KEYS[1], 0, limit - 1) else redis.call('DEL', KEYS[1]) end
  redis.call('INCRBY', KEYS[2], n - limit)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
"""


class RedisHistory:
    """A list per history id (newest first) and a dropped counter; both expire with the session."""

    prefix = "orderdesk:history:"

    def __init__(self, client, lifetime: float):
        self.client, self.ttl = client, max(1, int(lifetime))
        self._append = client.register_script(_APPEND)

    def _keys(self, hid: str) -> list[str]:
        return [self.prefix + hid, self.prefix + hid + ":dropped"]

    def append(self, hid: str, entry: dict, limit: int) -> None:
        data = json.dumps(entry, ensure_ascii=False, default=str)
        self._append(keys=self._keys(hid), args=[data, limit, self.ttl])

    def items(self, hid: str, limit: int | None = None) -> list[dict]:
        last = -1 if limit is None else limit - 1
        return [json.loads(raw) for raw in self.client.lrange(self._keys(hid)[0], 0, last)]

    def find(self, hid: str, entry_id: str) -> dict | None:
        return next((e for e in self.items(hid) if e["id"] == entry_id), None)

    def dropped(self, hid: str) -> int:
        return int(self.client.get(self._keys(hid)[1]) or 0)

    def clear(self, hid: str) -> None:
        self.client.delete(*self._keys(hid))
