"""An attempt's invoice: identified once the order is made, kept with the attempt, its payment status
refreshed; and an unknown outcome settled by what JustClick lists or by an operator, never by a guess.

`invoices` knows JustClick's replies and what makes an invoice an attempt's own; this module knows
the attempt: what it sent, its window of time, which invoices the team's other attempts claimed, and
where a finding is kept (the operator's history and the team-wide order index), so that later views
and the duplicate guard need no call. An invoice is attached under the order's lock, so two attempts
can never both claim it. A look never turns an outcome into "not made": only an operator does, having
seen what was looked for, and that decision is recorded with who made it and when.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request

from webapp.attempts import history
from webapp.attempts.order_index import identity
from webapp.attempts.outcomes import LOOKABLE, MADE, UNRESOLVED, Outcome
from webapp.justclick.client import JustClickError, Rejected
from webapp.justclick.invoices import (
    MAX_DETAIL_CALLS,
    Candidate,
    Expected,
    Invoice,
    failure_reason,
    find_invoice,
    refresh_status,
    site_of,
)
from webapp.web.services import services

log = logging.getLogger(__name__)

#: Looks the invoice region makes by itself, RETRY_SECONDS apart, while JustClick does not list
#: the invoice yet: about half a minute. Then the operator may look again.
TRIES = 6
RETRY_SECONDS = 5
#: JustClick's "request limit for this address is exhausted".
TOO_MANY = 8
#: The history page refreshes a kept payment status at most this often.
STATUS_MAX_AGE = timedelta(minutes=1)


@dataclass(frozen=True)
class Look:
    """What one look found; `entry` is the attempt as it stands after it."""

    state: str  # "found", "choose" (candidates for the operator), "not_listed" (yet), "failed"
    entry: dict
    reason: str = ""  # why the desk could not look, in an operator's words ("failed")
    limited: bool = False  # "failed" because JustClick's request limit was met (code 8): wait, then look
    settled: bool = False  # this look changed the attempt's outcome
    candidates: tuple[Candidate, ...] = ()


def kept_invoice(entry: dict) -> Invoice | None:
    """The invoice found earlier and kept with the attempt, if any (a record damaged in the store is
    none: the page looks again rather than fail)."""
    data = entry.get("invoice")
    try:
        return Invoice.from_dict(data) if data else None
    except (KeyError, TypeError, ValueError, ArithmeticError):
        log.warning("attempt %s keeps an invoice the desk cannot read", entry.get("id"))
        return None


def status_due(entry: dict) -> bool:
    """Whether the history page should ask JustClick for this attempt's payment status again."""
    data = entry.get("invoice")
    if not data or data["pay_status"].strip().lower() == "paid":
        return False
    return datetime.now(UTC) - datetime.fromisoformat(data["checked_at"]) >= STATUS_MAX_AGE


def look_up(entry: dict, bills: dict | None = None) -> Look:
    """Look for the attempt's invoice (or read a known one afresh) and keep what is identified.
    `bills`: the customer's invoices as GetBills listed them just now, if the caller has them."""
    if entry["outcome"] not in LOOKABLE:
        raise ValueError(f"an attempt that is {entry['outcome']} has no invoice to look for")
    try:
        if entry.get("bill_id"):  # known already (found before, or named by a 601): read it by number
            config, client = current_app.config, services().justclick
            invoice = refresh_status(client, entry["bill_id"], site_url=_site_url(),
                                     tz=config["ACCOUNT_TIMEZONE"], link_hosts=config["PAYMENT_LINK_HOSTS"])
            return _attach(entry, invoice, by="lookup") if invoice else Look("not_listed", entry)
        finding = _find(entry, bills)
    except JustClickError as exc:
        log.warning("invoice lookup failed: %s", type(exc).__name__)
        return Look("failed", entry, reason=failure_reason(exc), limited=_limited(exc))
    if finding.invoice is not None:
        return _attach(entry, finding.invoice, by="lookup")
    if finding.candidates:
        return Look("choose", entry, candidates=finding.candidates)
    return Look("not_listed", entry)


def invoice_by_number(number: str) -> Invoice | None:
    """An invoice the team's record names (found for an attempt, or named by a 601), read afresh for its
    payment link; None when it cannot be read now (the caller says less, never guesses)."""
    config = current_app.config
    try:
        return refresh_status(services().justclick, number, site_url=_site_url(),
                              tz=config["ACCOUNT_TIMEZONE"], link_hosts=config["PAYMENT_LINK_HOSTS"])
    except JustClickError as exc:
        log.warning("invoice %s could not be read: %s", number, type(exc).__name__)
        return None


def choose(entry: dict, number: str, operator: dict) -> Look:
    """The operator names which of the candidates is the attempt's invoice. It is looked up again,
    and attached only if it is still a candidate (or the finding) and no other attempt claimed it."""
    try:
        finding = _find(entry)
    except JustClickError as exc:
        return Look("failed", entry, reason=failure_reason(exc))
    offered = [c.invoice for c in finding.candidates] + ([finding.invoice] if finding.invoice else [])
    chosen = next((invoice for invoice in offered if invoice.number == str(number)), None)
    if chosen is None:
        return Look("choose", entry, candidates=finding.candidates)
    return _attach(entry, chosen, by="operator", operator=operator)


def none_of_these(entry: dict, numbers: list[str]) -> dict:
    """The operator says none of these invoices is the attempt's: they are not offered again."""
    # Invoice numbers only, and no more than one look offers: the form is the operator's, not trusted.
    named = {n for n in map(str, numbers) if n.isdigit()}
    kept = {**entry, "not_these": sorted({*entry.get("not_these", []), *sorted(named)[:MAX_DETAIL_CALLS]})}
    _keep(kept)
    return kept


def not_made(entry: dict, operator: dict) -> dict:
    """The operator, having looked in JustClick, says an unknown attempt made no order: the guard
    lets the order go, and the history says who decided it and when."""
    if entry["outcome"] not in UNRESOLVED:
        raise ValueError(f"an attempt that is {entry['outcome']} cannot be declared not made")
    kept = {**entry, "outcome": Outcome.NOT_MADE.value,
            "resolved": _resolution(entry, datetime.now(UTC), by="operator", operator=operator)}
    _keep(kept)
    return kept


def window(entry: dict) -> tuple[datetime, datetime]:
    """The attempt's own stretch of time on the desk's clock: from just before createorder went out to
    its answer; for an outcome without one, to the end of the read timeout (JustClick may still have
    been making the order when the desk stopped waiting)."""
    start = datetime.fromisoformat(entry["at"])
    was = (entry.get("resolved") or {}).get("was", entry["outcome"])
    if was in MADE and entry.get("answered_at"):
        return start, datetime.fromisoformat(entry["answered_at"]) + timedelta(seconds=1)  # to the second
    return start, history.sending_deadline(entry)


def _find(entry: dict, bills: dict | None = None):
    config, catalog = current_app.config, services().catalog.get()
    expected = Expected.of(entry["sent"], window(entry), catalogue_prices=entry.get("catalogue_prices"),
                           coupon_codes={str(c["id"]): c["coupon"] for c in catalog.coupons or ()})
    exclude = _claimed_by_others(entry) | set(entry.get("not_these", []))
    return find_invoice(services().justclick, expected, site_url=_site_url(),
                        tz=config["ACCOUNT_TIMEZONE"], exclude=exclude,
                        link_hosts=config["PAYMENT_LINK_HOSTS"], bills=bills)


def _attach(entry: dict, invoice: Invoice, *, by: str, operator: dict | None = None) -> Look:
    """Keep the invoice with the attempt, under the order's lock: an invoice another attempt of the
    team claimed meanwhile is not attached to this one."""
    now = datetime.now(UTC)
    kept = {**entry, "bill_id": invoice.number,
            "invoice": {**invoice.to_dict(), "checked_at": now.isoformat(timespec="seconds")}}
    settled = entry["outcome"] in UNRESOLVED
    if settled:
        kept.update(outcome=Outcome.CREATED.value, resolved=_resolution(entry, now, by=by, operator=operator))
    index = services().index
    try:
        with index.lock(_key(entry)) as locked:
            if invoice.number in {str(s.get("bill_id")) for s in locked.recent() if s["id"] != entry["id"]}:
                return Look("not_listed", entry)  # another attempt's invoice
            locked.put(kept)
        history.update(kept)
    except Exception:  # shown all the same, and identified again next time
        log.exception("what a look found for attempt %s could not be kept", entry["id"])
    return Look("found", kept, settled=settled)


def _limited(exc: JustClickError) -> bool:
    return isinstance(exc, Rejected) and exc.code == TOO_MANY


def _site_url() -> str:
    """Where relative payment links belong, and a host payment links may name. The sandbox's pages are
    served under the desk's /sandbox: its API host (sandbox.invalid) is no place a browser can open, and
    the desk's own host is where the stand-in's payment pages are."""
    if current_app.config["SANDBOX"]:
        return request.host_url + "sandbox"
    return site_of(current_app.config["JUSTCLICK_API_URL"])


def _key(entry: dict) -> str:
    return identity(entry["sent"], str(current_app.config["SECRET_KEY"]))


def _claimed_by_others(entry: dict) -> set[str]:
    """Invoices the same order's other attempts (anyone's) are known to have made. An invoice can
    only agree with attempts of the same customer and products, so the order's index sees them all."""
    summaries = services().index.recent(_key(entry))
    return {str(s["bill_id"]) for s in summaries if s.get("bill_id") and s["id"] != entry["id"]}


def _resolution(entry: dict, now: datetime, *, by: str, operator: dict | None = None) -> dict:
    """How an unsettled outcome was settled; `was` keeps the outcome JustClick's answer first gave."""
    was = (entry.get("resolved") or {}).get("was", entry["outcome"])
    who = {"operator": operator.get("username"), "operator_name": operator.get("name")} if operator else {}
    return {"by": by, "at": now.isoformat(timespec="seconds"), "was": was, **who}


def _keep(entry: dict) -> None:
    """Into the operator's history and the order index (for the guard)."""
    history.update(entry)
    services().index.put(_key(entry), entry)
