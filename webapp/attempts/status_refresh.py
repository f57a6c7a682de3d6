"""The payment statuses of the team's unpaid invoices, kept fresh without anyone pressing anything.

While the Orders page is open it asks, every REFRESH_SECONDS, for one refresh among its unpaid rows:
the invoice checked longest ago, once that is more than STATUS_EVERY ago. However many pages are open,
the whole team reads at most READS_PER_MINUTE invoices this way (counted in the rate limiter's store,
which every worker and instance shares), and JustClick's code 8 (too many requests) stops them all
for a minute. A paid-invoice notification from JustClick asks for its invoice at once: only one the
desk already has, read back with the signed getOrderDetails, its content never believed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from limits import parse

from webapp.attempts import history, invoice_lookup, team_orders
from webapp.web.extensions import limiter
from webapp.web.services import services

log = logging.getLogger(__name__)

#: How often an open Orders page asks for a refresh.
REFRESH_SECONDS = 10
#: An unpaid invoice is read again at most this often.
STATUS_EVERY = timedelta(minutes=3)
#: The team's reads of invoices for their statuses, whoever asks (pages, notifications).
READS_PER_MINUTE = parse("12 per minute")
#: Code 8 spends this bucket's one hit: no refresh until its minute has passed.
PAUSE = parse("1 per minute")
PAUSE_SECONDS = 60
TEAM = ("status-refresh", "team")  # the limiter's identifiers: one bucket for everyone


def paused() -> bool:
    try:
        return not limiter.limiter.test(PAUSE, "paused", *TEAM)
    except Exception:  # the limiter's store is away: read nothing rather than read without a count
        return True


def due(entry: dict, now: datetime) -> bool:
    """An unpaid invoice whose status was checked STATUS_EVERY ago or longer."""
    if team_orders.state_of(entry) != "waiting" or not isinstance(entry.get("invoice"), dict):
        return False
    try:
        return now - datetime.fromisoformat(entry["invoice"]["checked_at"]) >= STATUS_EVERY
    except (KeyError, TypeError, ValueError):
        return True  # a record without a readable check time: read it now


def refresh_one(entry_ids: list[str]) -> dict | None:
    """Read afresh the most stale due invoice among these attempts; the attempt as it then stands,
    or None when none was read (none due, paused, or the team's reads for this minute are spent)."""
    if paused():
        return None
    now = datetime.now(UTC)
    found = [history.find(entry_id) for entry_id in dict.fromkeys(entry_ids) if entry_id]
    waiting = [entry for entry in found if entry and due(entry, now)]
    if not waiting:
        return None
    return _read(min(waiting, key=lambda entry: entry["invoice"].get("checked_at") or ""))


def notified_paid(number: str) -> None:
    """JustClick said invoice `number` was paid: if an attempt of the team's made it, read it now."""
    number = number.strip()
    if not number.isdigit() or paused():
        return
    made = services().archive.rows(0, float("inf"), limit=1, words=team_orders.invoice_words(number))
    if made and (entry := history.find(made[0]["id"])) and team_orders.state_of(entry) != "paid":
        _read(entry)


def _read(entry: dict) -> dict | None:
    try:
        if not limiter.limiter.hit(READS_PER_MINUTE, "reads", *TEAM):
            return None
    except Exception:
        log.warning("status refresh: the rate limiter's store is not answering")
        return None
    look = invoice_lookup.look_up(entry)
    if look.limited:
        log.warning("status refresh: JustClick asked to wait (code 8); refreshes pause for a minute")
        limiter.limiter.hit(PAUSE, "paused", *TEAM)
    return look.entry
