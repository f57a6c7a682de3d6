"""Sending a table: one row per step, each through `send_order` with the row's own one-time token.

The page drives the run (each step's answer asks for the next), so no worker runs in the
background: a closed page stops after the row in flight, and a step posted twice finds the row's
token claimed and sends nothing new. Steps keep to the operator's order rate limit by waiting,
and JustClick's code 8 pauses the run until the operator resumes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from webapp.attempts import budget as order_budget
from webapp.attempts import history
from webapp.attempts.outcomes import PENDING, RETRYABLE, Outcome
from webapp.attempts.sending import NotRecorded, send_order
from webapp.auth.team import operator_name
from webapp.bulk.check import CheckedRow, check_table
from webapp.web.services import services

log = logging.getLogger(__name__)

#: Outcomes after which a row may be sent again with a new token: JustClick made no order.
#: Outcomes that may have made an order: nothing is retried while one of them is in the table.
#: JustClick's "too many requests": the run pauses instead of meeting it row after row.
TOO_MANY = 8
#: The row summary a table keeps of its attempt (the history keeps the whole attempt).
KEPT = ("id", "at", "outcome", "code", "text", "bill_id")
#: A step starts rows one after another until this many seconds have passed, so that the desk's
#: own work per request (session, page region, the table kept) is paid per second, not per row.
#: A row is never started after a stop, and a closed page stops when its step in flight ends.
STEP_SECONDS = 1.0


@dataclass
class Step:
    row: int | None = None  # the row this step settled, if any
    wait: float = 0.0  # seconds until the rate limit lets the next row go
    checked: CheckedRow | None = None  # that row, as checked before sending


@dataclass
class Steps:
    rows: dict[int, CheckedRow] = field(default_factory=dict)  # the rows settled, as sent
    wait: float = 0.0


def step(table: dict, operator: dict, stopped: Callable[[], bool], budget: float = STEP_SECONDS) -> Steps:
    """Send queued rows one after another for up to `budget` seconds (at least one row)."""
    began, done = time.monotonic(), Steps()
    while True:
        one = send_next(table, operator, stopped())
        if one.row is not None:
            done.rows[one.row] = one.checked
        done.wait = one.wait
        if one.row is None or table["state"] != "running" or time.monotonic() - began >= budget:
            return done


def start(table: dict, catalog) -> int:
    """Queue every valid, included, unsent row, with what the preview showed of it: that is what is
    sent (the table cannot be edited while it is sending). Returns how many rows are queued."""
    checked = check_table(table, catalog)
    for row, result in zip(table["rows"], checked, strict=True):
        row["queued"] = result.valid and not row.get("excluded") and not row.get("entry")
        row["prepared"] = {"params": result.params, "extra": result.extra, "products": result.products,
                           "total": result.total} if row["queued"] else None
    table.update(state="running", message="")
    return sum(1 for row in table["rows"] if row["queued"])


def resume(table: dict) -> None:
    table.update(state="running", message="")


def next_row(table: dict) -> int | None:
    rows = table["rows"]
    return next((i for i, row in enumerate(rows) if row.get("queued") and not row.get("entry")), None)


def send_next(table: dict, operator: dict, stopped: bool) -> Step:
    """Send the next queued row (or say why not). The caller stores the table afterwards."""
    if table["state"] != "running":
        return Step()
    if stopped:
        table.update(state="stopped", message=_("Stopped. The rows not sent yet are still queued."))
        return Step()
    index = next_row(table)
    if index is None:
        table.update(state="done", message="")
        return Step()
    wait = order_budget.wait(operator.get("username", ""))
    if wait:
        return Step(wait=wait)
    row = table["rows"][index]
    checked = CheckedRow(index, **row["prepared"])
    extra = {**checked.extra, "bulk_table": table["id"], "bulk_row": index + 1}
    try:
        result = send_order(checked.params, token=row["token"], confirmed=row.get("confirm"),
                            operator=operator, extra=extra)
    except NotRecorded:
        table.update(state="paused", message=_(
            "Row %(row)d was not sent: the desk could not record it first (its store is not answering). "
            "Continue when it answers again.", row=index + 1))
        return Step(index, checked=checked)
    if result.kind == "sent":
        order_budget.spend(operator.get("username", ""))
    if result.kind == "confirm":
        row["entry"] = {"outcome": "held", "earlier": result.entry}
    elif result.entry is None:  # a twin whose sender stopped without a record: it may exist
        row["entry"] = {"outcome": Outcome.UNKNOWN.value, "text": _("No answer was recorded for this row.")}
    else:
        row["entry"] = {name: result.entry.get(name) for name in KEPT}
    if row["entry"].get("code") == TOO_MANY:  # refused, not made: sent again when the run resumes
        row["tried"] = [*row.get("tried", []), row["entry"]]
        row.update(entry=None, token=services().tokens.new(operator_name()))
        table.update(state="paused", message=_(
            "JustClick answered code 8 (too many requests) at row %(row)d, so sending is paused. "
            "Wait a minute, then continue: the row will be sent again.", row=index + 1))
    return Step(index, checked=checked)


def retry_failed(table: dict) -> int:
    """Rows JustClick made no order of get new tokens and go back to the preview; returns how many.
    An unknown outcome is not retried: it may exist, and must be settled first (its attempt page)."""
    tokens = services().tokens
    settled = current_outcomes(table)
    outcomes = {i: settled.get(row["entry"].get("id"), row["entry"]["outcome"])
                for i, row in enumerate(table["rows"]) if row.get("entry")}
    if any(outcome in PENDING for outcome in outcomes.values()):
        table["message"] = _("Settle the rows whose outcome is unknown first: open each, and the desk looks "
                             "for its invoice. Then retry the failed rows.")
        return 0
    count = 0
    for i, row in enumerate(table["rows"]):
        if outcomes.get(i) in RETRYABLE:
            entry = row["entry"]
            row["tried"] = [*row.get("tried", []), entry]
            row.update(entry=None, token=tokens.new(operator_name()), queued=False)
            count += 1
    table.update(state="draft", message="")
    return count


def current_outcomes(table: dict) -> dict[str, str]:
    """Each sent row's outcome as the history knows it now: an invoice lookup may have settled it."""
    return {entry_id: attempt["outcome"] for entry_id, attempt in attempts(table).items()}


def attempts(table: dict) -> dict[str, dict]:
    ids = {row["entry"].get("id") for row in table["rows"] if row.get("entry")}
    try:
        return {e["id"]: e for e in history.entries() if e["id"] in ids}
    except Exception:  # the store is away: the table's own copies will do
        log.warning("bulk: the history could not be read")
        return {}


def outcome_label(outcome: str) -> str:
    """An attempt's outcome as the history names it, and what only a table's row can be."""
    table_only = {"held": _("Held: likely a duplicate"), "excluded": _("Excluded"),
                  "unsent": _("Not sent from this table")}
    return table_only.get(outcome) or history.OUTCOMES.get(outcome, outcome)
