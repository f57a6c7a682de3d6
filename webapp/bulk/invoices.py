"""A sent table's invoices, looked for as its rows are made, so that the table ends with what each
customer needs (invoice number, amount, payment link, message) without a click per row.

The page asks for one look at a time, PAUSE_SECONDS apart, beside the run and never in its way: a
look reads and writes attempts (the history and the order index, as the attempt's own page does),
never the table the run is writing. One look serves one customer: one GetBills for all of that
customer's rows, then each row's own checks (invoice_lookup), so no invoice is attached that the
attempt's page would not attach. A row JustClick does not list yet is looked for again RETRY_SECONDS
later, up to TRIES times; a row with several candidates is left to its attempt's page, where the
operator chooses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from webapp.attempts import history, invoice_lookup
from webapp.attempts.invoice_lookup import RETRY_SECONDS, TOO_MANY, TRIES
from webapp.attempts.outcomes import LOOKABLE
from webapp.justclick.client import JustClickError, Rejected
from webapp.web.services import services

log = logging.getLogger(__name__)

#: Between two looks: JustClick's request limit is per address, and the whole team shares it.
PAUSE_SECONDS = 1
#: After JustClick's code 8 (too many requests), from any of its calls, the looks wait this long.
LIMITED_SECONDS = 60


@dataclass
class Looks:
    rows: list[int] = field(default_factory=list)  # rows whose attempt this look read
    wait: float | None = None  # seconds until the next look; None: nothing is left to look for


def awaiting(table: dict, attempts: dict[str, dict]) -> dict[int, dict]:
    """Rows whose attempt may have made an invoice the desk has not found yet, and will look for."""
    found = {}
    for index, row in enumerate(table["rows"]):
        attempt = attempts.get((row.get("entry") or {}).get("id"))
        if (attempt and attempt["outcome"] in LOOKABLE and not attempt.get("invoice")
                and attempt.get("looks", 0) < TRIES and _email(attempt)):
            found[index] = attempt
    return found


def look_next(table: dict, attempts: dict[str, dict]) -> Looks:
    """Look for the invoices of the next customer whose rows are due; say when to look again."""
    waiting = awaiting(table, attempts)
    if not waiting:
        return Looks(wait=PAUSE_SECONDS if table["state"] == "running" else None)
    now = datetime.now(UTC)
    due = {index: attempt for index, attempt in waiting.items() if _due_at(attempt) <= now}
    if not due:
        soonest = min(_due_at(attempt) for attempt in waiting.values())
        return Looks(wait=max(PAUSE_SECONDS, (soonest - now).total_seconds()))
    email = _email(next(iter(due.values())))
    rows = {index: attempt for index, attempt in due.items() if _email(attempt) == email}
    try:
        # A known number is read by itself (getOrderDetails); only the others need the list.
        bills = services().justclick.get_bills(email) if any(not a.get("bill_id") for a in rows.values()) \
            else None
    except JustClickError as exc:
        log.warning("bulk invoice look failed: %s", type(exc).__name__)
        if isinstance(exc, Rejected) and exc.code == TOO_MANY:  # not a try: JustClick asked to wait
            return Looks(list(rows), LIMITED_SECONDS)
        for attempt in rows.values():
            _tried(attempt, now)
        return Looks(list(rows), PAUSE_SECONDS)
    for attempt in rows.values():
        look = invoice_lookup.look_up(attempt, bills=bills)
        if look.limited:
            return Looks(list(rows), LIMITED_SECONDS)
        # Counted unless its invoice is kept (one found but not kept is a try too); several
        # candidates are the operator's to choose, on the attempt's page.
        _tried(attempt, now, last=look.state == "choose")
    return Looks(list(rows), PAUSE_SECONDS)


def _due_at(attempt: dict) -> datetime:
    looked = attempt.get("looked_at")
    if not looked:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(looked) + timedelta(seconds=RETRY_SECONDS)


def _email(attempt: dict) -> str:
    sent = attempt.get("sent")
    email = sent.get("customer_email") if isinstance(sent, dict) else None
    return email if isinstance(email, str) else ""


def _tried(attempt: dict, now: datetime, last: bool = False) -> None:
    """Count a look on the attempt as it is stored now, so that nothing the operator did meanwhile
    (chose its invoice, settled it) is written over; an attempt settled meanwhile is left alone."""
    try:
        stored = history.find(attempt["id"])
        if stored is None or stored.get("invoice") or stored["outcome"] != attempt["outcome"]:
            return
        history.update({**stored, "looks": TRIES if last else stored.get("looks", 0) + 1,
                        "looked_at": now.isoformat(timespec="seconds")})
    except Exception:  # the store is away: this row is looked at again, a second later at the soonest
        log.warning("bulk: the look at attempt %s could not be noted", attempt["id"])
