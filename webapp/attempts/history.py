"""The operator's order history: every submission attempt of their session, newest first.

The attempts live in a store of their own (files, or Redis when REDIS_URL is set), keyed by a
history id kept in the session. The session blob is saved whole per request, so a list inside it
loses entries when two requests of one session overlap; a store with atomic appends does not.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
import shutil
import time
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from flask import current_app, session
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from webapp.attempts import exports
from webapp.attempts.outcomes import DESK_WORDED, Outcome
from webapp.i18n.words import Words
from webapp.justclick.client import CREATEORDER_FIELDS
from webapp.storage.files import SWEEP_EVERY, ExpiringFolder, write_atomically
from webapp.web.services import services

log = logging.getLogger(__name__)

# outcome (the key kept in the history, never translated) -> what the operator reads, in their language
OUTCOMES = {
    "sending": _l("Sending…"),
    "created": _l("Created"),
    "exists": _l("Already exists in JustClick"),
    "rejected": _l("Rejected by JustClick"),
    "unknown": _l("Unknown: check in JustClick"),
    "not_sent": _l("Not sent: JustClick unreachable"),
    # An unknown outcome an operator settled, having looked in JustClick: no order was made.
    "not_made": _l("Not made (checked in JustClick)"),
}
#: JustClick's payment statuses as an operator reads them; others are shown as JustClick says them.
PAY_STATUSES = {"waiting": _l("Waiting for payment"), "paid": _l("Paid"), "cancel": _l("Cancelled")}
#: Outcomes after which the order exists in JustClick.
#: After the client's timeouts, this much longer before an attempt still "sending" counts as unknown:
#: whatever sent it has stopped (a killed worker, a lost store) without writing its outcome.
SENDING_MARGIN = 5.0


def record(**attempt) -> dict:
    """Add an attempt (newest first) and return it. See `new_entry` for its fields."""
    return add(new_entry(**attempt))


def add(entry: dict) -> dict:
    _store().append(history_id(), entry, current_app.config["HISTORY_LIMIT"])
    return entry


def update(entry: dict, hid: str | None = None) -> None:
    """Write an attempt's outcome over its record (or add it, if the record is gone)."""
    _store().update(hid or history_id(), entry, current_app.config["HISTORY_LIMIT"])


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


def sending_deadline(entry: dict) -> datetime:
    """When an attempt still "sending" stops being in flight and becomes unknown."""
    config = current_app.config
    seconds = config["JUSTCLICK_CONNECT_TIMEOUT"] + config["JUSTCLICK_TIMEOUT"] + SENDING_MARGIN
    return datetime.fromisoformat(entry["at"]) + timedelta(seconds=seconds)


def as_known(entry: dict) -> dict:
    """The attempt as it stands now: one "sending" past its deadline is unknown (its sender stopped).
    So is one an earlier release settled as "not_found" by itself: not finding an invoice in time never
    meant the order was not made (a skewed clock hid made orders), so only an operator may say so."""
    if entry.get("outcome") == Outcome.NOT_FOUND:
        return {**entry, "outcome": Outcome.UNKNOWN.value, "resolved": None}
    if entry.get("outcome") != Outcome.SENDING or datetime.now(UTC) < sending_deadline(entry):
        return entry
    return {**entry, "outcome": Outcome.UNKNOWN.value,
            "text": Words("No answer was recorded: the desk stopped while sending. The order may exist.")}


def entries(outcome: str | None = None, limit: int | None = None) -> list[dict]:
    """Newest first; `limit` reads only that many newest attempts (before filtering by outcome)."""
    hid = history_id()
    items = [as_known(e) for e in _store().items(hid, limit)] if hid else []
    return [e for e in items if e["outcome"] == outcome] if outcome else items


def recent() -> list[dict] | None:
    """The newest attempts for the panel; None when the store fails, so that a page that must be
    shown (an order's outcome) is not lost to its side panel."""
    try:
        return entries(limit=10)
    except Exception:
        log.warning("history panel: the store is not answering")
        return None


def dropped() -> int:
    hid = history_id()
    return _store().dropped(hid) if hid else 0


def find(entry_id: str) -> dict | None:
    hid = history_id()
    entry = _store().find(hid, entry_id) if hid and entry_id else None
    return as_known(entry) if entry else None


def clear() -> None:
    if hid := history_id():
        _store().clear(hid)


def desk_text(entry: dict) -> str:
    """An attempt's text: the desk's words translated, JustClick's own error_text as it came."""
    text = entry.get("text") or ""
    if entry.get("outcome") not in DESK_WORDED:
        return text
    said = entry.get("said") or {}
    if said.get("msgid"):
        return gettext(said["msgid"], **(said.get("values") or {}))
    return gettext(text) if text else ""


def pay_status_label(status: str) -> str:
    return PAY_STATUSES.get(status.strip().lower(), status) if status else ""


#: The invoice an attempt made, as last checked, and how an unknown outcome was settled.
INVOICE_COLUMNS = ("invoice_number", "amount_to_pay", "payment_status", "payment_link", "status_checked_at",
                   "resolved_from", "resolved_at")
CSV_COLUMNS = ("time", "operator", "outcome", "code", "text", *INVOICE_COLUMNS, *CREATEORDER_FIELDS)


def to_csv(items: list[dict]) -> str:
    """One row per attempt. The column names are the API's field names in every language; the
    outcomes and payment statuses are in the operator's."""
    return exports.csv_text(CSV_COLUMNS, export_rows(items))


def export_rows(items: list[dict]):
    """The rows of the CSV and the xlsx, one per attempt."""
    for e in items:
        row = [e["at"], e.get("operator") or "", OUTCOMES[e["outcome"]], e.get("code") or "", e["text"]]
        invoice, resolved = e.get("invoice") or {}, e.get("resolved") or {}
        row += [e.get("bill_id") or invoice.get("number") or "", invoice.get("sum_to_pay") or "",
                pay_status_label(invoice.get("pay_status") or ""), invoice.get("link") or "",
                invoice.get("checked_at") or "", OUTCOMES.get(resolved.get("was"), ""),
                resolved.get("at") or ""]
        row += [e["sent"].get(name, "") for name in CREATEORDER_FIELDS]
        yield row


def _store():
    return services().history


def history_id() -> str | None:
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

    def update(self, hid: str, entry: dict, limit: int) -> None:
        folder = self._folder(hid)
        name = self._name_of(folder, entry["id"])
        if name is None:  # trimmed, cleared or lost: the outcome is worth a new record
            self.append(hid, entry, limit)
        else:
            write_atomically(os.path.join(folder, name), json.dumps(entry, ensure_ascii=False, default=str))

    def _name_of(self, folder: str, entry_id: str) -> str | None:
        return next((n for n in self._names(folder) if n.endswith(f"-{entry_id}.json")), None)

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
        name = self._name_of(folder, entry_id)
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


# Redis keeps, per history id, a list of attempt ids (newest first), each attempt under its own key
# (so an outcome can be written over its record), and a counter of attempts the cap dropped.
# Push, trim to the cap and count what the trim dropped in one atomic step; an update of an attempt
# whose record is gone (trimmed, or lost with a restarted Redis) adds it again.
_APPEND = """
local list, dropped, prefix = KEYS[1], KEYS[2], KEYS[3]
local id, data, limit, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if ARGV[5] == 'update' and redis.call('EXISTS', prefix .. id) == 1 then
  redis.call('SET', prefix .. id, data, 'EX', ttl)
  return
end
redis.call('SET', prefix .. id, data, 'EX', ttl)
local n = redis.call('LPUSH', list, id)
if n > limit then
  for _, old in ipairs(redis.call('LRANGE', list, limit, -1)) do redis.call('DEL', prefix .. old) end
  if limit > 0 then redis.call('LTRIM', list, 0, limit - 1) else redis.call('DEL', list) end
  redis.call('INCRBY', dropped, n - limit)
end
redis.call('EXPIRE', list, ttl)
redis.call('EXPIRE', dropped, ttl)
"""


class RedisHistory:
    """A list of attempt ids per history id, an attempt per key; all expire with the session."""

    prefix = "orderdesk:history:"

    def __init__(self, client, lifetime: float):
        self.client, self.ttl = client, max(1, int(lifetime))
        self._append = client.register_script(_APPEND)

    def _keys(self, hid: str) -> list[str]:
        return [self.prefix + hid, self.prefix + hid + ":dropped", self.prefix + hid + ":attempt:"]

    def _write(self, hid: str, entry: dict, limit: int, mode: str) -> None:
        data = json.dumps(entry, ensure_ascii=False, default=str)
        self._append(keys=self._keys(hid), args=[entry["id"], data, limit, self.ttl, mode])

    def append(self, hid: str, entry: dict, limit: int) -> None:
        self._write(hid, entry, limit, "append")

    def update(self, hid: str, entry: dict, limit: int) -> None:
        self._write(hid, entry, limit, "update")

    def items(self, hid: str, limit: int | None = None) -> list[dict]:
        ids = self.client.lrange(self._keys(hid)[0], 0, -1 if limit is None else limit - 1)
        if not ids:
            return []
        attempt = self._keys(hid)[2]
        found = self.client.mget([attempt + i.decode() for i in ids])
        return [json.loads(raw) for raw in found if raw is not None]

    def find(self, hid: str, entry_id: str) -> dict | None:
        raw = self.client.get(self._keys(hid)[2] + entry_id)
        return None if raw is None else json.loads(raw)

    def dropped(self, hid: str) -> int:
        return int(self.client.get(self._keys(hid)[1]) or 0)

    def clear(self, hid: str) -> None:
        listed, dropped, attempt = self._keys(hid)
        ids = [attempt + i.decode() for i in self.client.lrange(listed, 0, -1)]
        self.client.delete(listed, dropped, *ids)
