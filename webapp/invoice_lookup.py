"""An attempt's invoice: found once the order is made, kept with the attempt, its payment status
refreshed; and an unknown outcome settled by looking in JustClick, never by sending again.

`invoices` knows JustClick's replies; this module knows the attempt: what was sent and when, which
invoices the same order's other attempts already claimed, and where a finding is kept (the
operator's history and the team-wide order index), so that later views and the duplicate guard
need no call. A look never changes a made order ("created", "exists") into anything else.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request

from . import history
from .invoices import Invoice, failure_reason, find_invoice, refresh_status, site_of
from .justclick import JustClickError
from .order_index import identity

log = logging.getLogger(__name__)

#: Looks the invoice region makes by itself, RETRY_SECONDS apart, while JustClick does not list
#: the invoice yet: about half a minute. Then the operator may look again.
TRIES = 6
RETRY_SECONDS = 5
#: The history page refreshes a kept payment status at most this often.
STATUS_MAX_AGE = timedelta(minutes=1)
#: An unknown attempt that JustClick still does not list this long after it was sent was most
#: likely not made: a made order is listed within seconds.
NOT_FOUND_AFTER = timedelta(minutes=3)
#: Outcomes whose invoice may be looked for: made, or perhaps made.
LOOKABLE = ("created", "exists", "unknown", "not_found")
#: Outcomes a look may settle: to "created" when the invoice is found, to "not_found" when not.
UNSETTLED = ("unknown", "not_found")
#: A 601 ("already exists") names an invoice made before this attempt: any time will do.
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Look:
    """What one look found; `entry` is the attempt as it stands after it."""

    state: str  # "found", "not_listed" (yet), "not_found" (most likely never made), "failed"
    entry: dict
    reason: str = ""  # why the desk could not look, in an operator's words ("failed")
    settled: bool = False  # this look changed the attempt's outcome


def kept_invoice(entry: dict) -> Invoice | None:
    """The invoice found earlier and kept with the attempt, if any."""
    data = entry.get("invoice")
    return Invoice.from_dict(data) if data else None


def status_due(entry: dict) -> bool:
    """Whether the history page should ask JustClick for this attempt's payment status again."""
    data = entry.get("invoice")
    if not data or data["pay_status"].strip().lower() == "paid":
        return False
    return datetime.now(UTC) - datetime.fromisoformat(data["checked_at"]) >= STATUS_MAX_AGE


def look_up(entry: dict) -> Look:
    """Look for the attempt's invoice (or read a known one afresh) and keep what is found."""
    if entry["outcome"] not in LOOKABLE:
        raise ValueError(f"an attempt that is {entry['outcome']} has no invoice to look for")
    try:
        invoice = _find(entry)
    except JustClickError as exc:
        log.warning("invoice lookup failed: %s", type(exc).__name__)
        return Look("failed", entry, reason=failure_reason(exc))
    now = datetime.now(UTC)
    if invoice is not None:
        kept = {**entry, "bill_id": invoice.number,
                "invoice": {**invoice.to_dict(), "checked_at": now.isoformat(timespec="seconds")}}
        settled = entry["outcome"] in UNSETTLED
        if settled:
            kept.update(outcome="created", resolved=_resolution(entry, now))
        _keep(kept)
        return Look("found", kept, settled=settled)
    if entry["outcome"] == "unknown" and now - sent_at(entry) >= NOT_FOUND_AFTER:
        kept = {**entry, "outcome": "not_found", "resolved": _resolution(entry, now)}
        _keep(kept)
        return Look("not_found", kept, settled=True)
    return Look("not_found" if entry["outcome"] == "not_found" else "not_listed", entry)


def seconds_until_settled(entry: dict) -> int:
    """For an unknown attempt, how long until a look that finds nothing may settle it as not made."""
    if entry["outcome"] != "unknown":
        return 0
    left = sent_at(entry) + NOT_FOUND_AFTER - datetime.now(UTC)
    return max(0, math.ceil(left.total_seconds()))


def sent_at(entry: dict) -> datetime:
    """When the attempt was recorded, just before createorder went out."""
    return datetime.fromisoformat(entry["at"])


def _find(entry: dict) -> Invoice | None:
    client, config = current_app.extensions["justclick"], current_app.config
    site, tz, hosts = _site_url(), config["ACCOUNT_TIMEZONE"], config["PAYMENT_LINK_HOSTS"]
    if entry.get("bill_id"):  # known already (found before, or named by a 601): read it by number
        return refresh_status(client, entry["bill_id"], site_url=site, tz=tz, link_hosts=hosts)
    sent = entry["sent"]
    since = _LONG_AGO if entry["outcome"] == "exists" else sent_at(entry)
    return find_invoice(client, sent.get("customer_email", ""), sent.get("product_names", "").split(","),
                        since, site_url=site, tz=tz, exclude=_claimed_by_others(entry), link_hosts=hosts)


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
    """Invoices the same order's other attempts (anyone's) are known to have made."""
    summaries = current_app.extensions["order_index"].recent(_key(entry))
    return {str(s["bill_id"]) for s in summaries if s.get("bill_id") and s["id"] != entry["id"]}


def _resolution(entry: dict, now: datetime) -> dict:
    """How an unsettled outcome was settled; `was` keeps the outcome JustClick's answer first gave."""
    was = (entry.get("resolved") or {}).get("was", entry["outcome"])
    return {"by": "lookup", "at": now.isoformat(timespec="seconds"), "was": was}


def _keep(entry: dict) -> None:
    """Into the operator's history and the order index (for the guard). A store that fails here
    loses only the finding: it is shown all the same, and found again next time."""
    try:
        history.update(entry)
        current_app.extensions["order_index"].put(_key(entry), entry)
    except Exception:
        log.exception("what a look found for attempt %s could not be kept", entry["id"])
