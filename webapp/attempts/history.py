"""The operator's order history: every submission attempt of their session, newest first.

The attempts live in a store of their own (a storage.HistoryStore: files, or Redis when REDIS_URL is
set), keyed by a history id derived from the session. The session blob is saved whole per request, so
a list inside it loses entries when two requests of one session overlap; a store with atomic appends
does not.

Every attempt written here is written to the team's archive too (attempts.team_orders): an attempt is
found by its id from any session, as long as the archive keeps it.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace

from flask import current_app, session
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from webapp.attempts import exports, team_orders
from webapp.attempts.outcomes import DESK_WORDED, Outcome
from webapp.i18n.words import Words
from webapp.justclick.client import CREATEORDER_FIELDS
from webapp.storage.interfaces import HistoryStore
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
#: The words every row of a list of attempts says (attempts_table.html), said once per list and language:
#: fifty rows said them nine hundred times, a third of the Orders page's time.
LIST_WORDS = {
    "time": _l("Time"), "outcome": _l("Outcome"), "invoice": _l("Invoice"), "payment": _l("Payment"),
    "customer": _l("Customer"), "products": _l("Products"), "amount": _l("Amount"),
    "operator": _l("Operator"),
    "payment_link": _l("Payment link"), "link_copied": _l("Payment link copied."),
    "link_selected": _l("Payment link selected: press Ctrl+C to copy it."), "copy": _l("Copy"),
    "as_sent": _l("as sent"), "details": _l("Details"), "duplicate": _l("Duplicate"),
    "reminder": _l("Reminder"), "open_reminder": _l("Open the reminder"),
    "found_in_justclick": _l("(found in JustClick)"), "settle": _l("Look it up or settle it"),
    # said with each row's values (Jinja's format filter)
    "of_attempt": _l("of the attempt for %(email)s at %(time)s"), "of_invoice": _l("of invoice %(number)s"),
    "link_of_invoice": _l("the payment link of invoice %(number)s"), "waiting": _l("waiting %(time)s"),
}


def list_words() -> SimpleNamespace:
    return _list_words(str(get_locale()))


@lru_cache(maxsize=8)
def _list_words(_language: str) -> SimpleNamespace:  # the page's language, as the key
    return SimpleNamespace(**{name: str(word) for name, word in LIST_WORDS.items()},
                           outcomes={name: str(word) for name, word in OUTCOMES.items()})


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
    team_orders.keep(services().archive, entry)
    return entry


def update(entry: dict, hid: str | None = None) -> None:
    """Write what became of an attempt over its record: in the history of the session that sent it
    (`hid`; else this session's, if the attempt is there: another's attempt, opened from the team's
    list, does not join this history) and in the team's archive. A record gone from the session that
    sent it (the cap dropped it) is added again."""
    limit = current_app.config["HISTORY_LIMIT"]
    if hid:
        _store().update(hid, entry, limit)
    elif (own := history_id()) and _store().find(own, entry["id"]):
        _store().update(own, entry, limit)
    team_orders.keep(services().archive, entry)


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
    """The attempt with that id, as the team's archive keeps it (every write goes there, whoever made
    it: another operator's look or decision included); this session's copy when the archive has none
    (past its retention)."""
    if not entry_id:
        return None
    hid = history_id()
    entry = services().archive.get(entry_id) or (_store().find(hid, entry_id) if hid else None)
    return as_known(entry) if entry else None


def clear() -> None:
    if hid := history_id():
        _store().clear(hid)


def desk_text(entry: dict) -> str:
    """An attempt's text: the desk's words translated, JustClick's own error_text as it came."""
    text = entry.get("text") or ""
    # An outcome settled later (found in JustClick) keeps the words of what happened first.
    first = (entry.get("resolved") or {}).get("was", entry.get("outcome"))
    if first not in DESK_WORDED:
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
    for e in items:  # read as data of any shape: an earlier release's record exports what it holds
        outcome = e.get("outcome")
        row = [e.get("at") or "", e.get("operator") or "", OUTCOMES.get(outcome, outcome or ""),
               e.get("code") or "", e.get("text") or ""]
        invoice, resolved = e.get("invoice") or {}, e.get("resolved") or {}
        row += [e.get("bill_id") or invoice.get("number") or "", invoice.get("sum_to_pay") or "",
                pay_status_label(invoice.get("pay_status") or ""), invoice.get("link") or "",
                invoice.get("checked_at") or "", OUTCOMES.get(resolved.get("was"), ""),
                resolved.get("at") or ""]
        sent = e.get("sent") if isinstance(e.get("sent"), dict) else {}
        row += [sent.get(name, "") for name in CREATEORDER_FIELDS]
        yield row


def _store() -> HistoryStore:
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
