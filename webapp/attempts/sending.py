"""One order, one invoice: an attempt's life from the duplicate guard to its recorded outcome.

Nothing is sent that could not be recorded first. Under one lock per order (customer email and
products) the team-wide index is checked for an earlier attempt of the same order, and this attempt
is recorded as "sending" in the operator's history and in the index; only then does `createorder`
go out, once, never retried. Its answer is written over the record; if the store has failed
meanwhile, into the journal, and the operator is shown the outcome all the same.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from webapp.attempts import history, team_orders
from webapp.attempts.order_index import identity, summary
from webapp.attempts.outcomes import MADE, Outcome
from webapp.i18n.words import Words, said
from webapp.justclick.client import JustClickError, Rejected
from webapp.justclick.invoices import made_since
from webapp.web.services import services

log = logging.getLogger(__name__)

#: How far back a created order with the same email and products counts as a likely duplicate.
DUPLICATE_WINDOW = timedelta(minutes=15)
POLL = 0.05  # seconds between two looks at an attempt in flight, for a twin post of its form
RECORD_WAIT = 5.0  # seconds a twin waits for the record of an attempt whose claim it saw


class NotRecorded(Exception):
    """The attempt could not be recorded, so nothing was sent."""


@dataclass(frozen=True)
class Result:
    kind: str  # "sent", "confirm" (an earlier attempt must be confirmed), "twin" (this form was sent)
    entry: dict | None = None  # the attempt: this one, the earlier one, or the twin's


def send_order(params: dict, *, token: str, confirmed: str | None, operator: dict, extra: dict,
               catalog=None) -> Result:
    """Send the order once, or say why not. Raises NotRecorded when nothing could be recorded.
    `catalog`: the lists the caller has read for this request (else they are read here)."""
    desk = services()
    tokens, index, journal = desk.tokens, desk.index, desk.journal
    key = identity(params, str(current_app.config["SECRET_KEY"]))
    entry = history.new_entry(outcome=Outcome.SENDING.value, sent=params, reply=None,
                              operator=operator.get("username"),
                              extra={**extra, "token": token, "operator_name": operator.get("name"),
                                     "catalogue_prices": _catalogue_prices(params, catalog)})
    hid = history.history_id()
    try:
        if tokens.is_claimed(token):  # a twin of a form already sent: no lock, no question
            return Result("twin", _twin(token))
        stored = _replay(journal, force=True)  # earlier outcomes reach the store before any new send
        elsewhere = _asked_justclick(index, key, params)  # outside the lock: a call may take seconds
        with index.lock(key) as locked:
            earlier = _earlier_to_confirm(locked.recent() + elsewhere, journal.pending_for(key), token)
            if earlier and confirmed != earlier["id"]:
                return Result("confirm", earlier)
            if not stored:
                raise RuntimeError("the journal could not be written into the store")
            claimed = tokens.claim(token, entry["id"])
            if claimed:
                try:
                    locked.put(entry)  # the guard's record first: it is what stops a second invoice
                    history.add(entry)
                except Exception:
                    _withdraw(locked, entry, tokens, token, hid)
                    raise
        if not claimed:  # a twin claimed it between our first look and the lock
            return Result("twin", _twin(token))
    except Exception as exc:  # any store failure before sending: send nothing
        log.exception("the attempt could not be recorded; nothing was sent")
        raise NotRecorded(str(exc)) from exc
    entry = _call(entry, params)
    _keep(entry, hid, key)
    return Result("sent", entry)


def _asked_justclick(index, key: str, params: dict) -> list[dict]:
    """What JustClick knows of this order, when the index cannot know it: its memory began less than
    the duplicate window ago (a Redis restarted empty, a new instance folder) and it holds nothing for
    this order. Each recent invoice of the customer with these products is an earlier "created" for
    the guard; a look that fails is an earlier that could not be checked. Both are asked about."""
    config = current_app.config
    if not config["GUARD_ASKS_JUSTCLICK"]:
        return []
    now = datetime.now(UTC)
    if now - datetime.fromtimestamp(index.memory_since(), UTC) >= DUPLICATE_WINDOW or index.recent(key):
        return []  # it remembers long enough, or it knows this order: the guard needs no more
    try:
        found = made_since(services().justclick, params.get("customer_email", ""),
                           params.get("product_names", "").split(","), now - DUPLICATE_WINDOW,
                           tz=config["ACCOUNT_TIMEZONE"])
    except JustClickError as exc:
        log.warning("the guard could not ask JustClick: %s", type(exc).__name__)
        return [{"id": f"unchecked-{key[:12]}", "at": now.isoformat(timespec="seconds"),
                 "outcome": "unchecked", "source": "justclick", "text": str(exc),
                 "said": said(exc.args[0] if exc.args else "")}]
    return [{"id": f"justclick-{number}", "at": (at or now).isoformat(timespec="seconds"),
             "outcome": Outcome.CREATED.value, "bill_id": number, "source": "justclick"}
            for number, at in found]


def _catalogue_prices(params: dict, catalog=None) -> dict[str, str]:
    """The catalogue price of each product sent without a price, as the desk knows it now: what its
    invoice must then charge (JustClick applies the catalogue price), for the invoice lookup."""
    names = [n for n in params.get("product_names", "").split(",") if n]
    typed = len([p for p in params.get("product_prices", "").split(",") if p])
    try:
        prices = (catalog if catalog is not None else services().catalog.get()).prices
    except Exception:  # no lists at hand: those prices are simply not compared
        log.warning("catalogue prices unavailable for the attempt's record")
        return {}
    return {name: str(prices[name]) for name in names[typed:] if name in prices}


def earlier_attempt(params: dict, token: str = "") -> dict | None:
    """The earlier attempt the guard would ask about before sending `params`, read without its lock:
    for a preview, which sends nothing (the send itself checks again under the lock)."""
    index, journal = services().index, services().journal
    key = identity(params, str(current_app.config["SECRET_KEY"]))
    return _earlier_to_confirm(index.recent(key), journal.pending_for(key), token)


def _withdraw(locked, entry: dict, tokens, token: str, hid: str | None) -> None:
    """Undo what was written of an attempt that will not be sent, as far as the store lets us."""
    unsent = {**entry, "outcome": Outcome.NOT_SENT.value, "text": Words("Not recorded, so not sent.")}
    for undo in (lambda: locked.put(unsent),
                 lambda: history.update(unsent, hid),  # the history may have it as "sending"
                 lambda: tokens.release(token)):  # the same form may then be sent again
        try:
            undo()
        except Exception:
            log.warning("could not withdraw attempt %s", entry["id"])


def _call(entry: dict, params: dict) -> dict:
    """createorder, once; the attempt with JustClick's answer."""
    try:
        reply = services().justclick.create_order(params)
    except Rejected as exc:
        if exc.code == 601:  # "order already exists": not a refusal, the invoice is there
            bill = exc.reply.get("result") if isinstance(exc.reply.get("result"), dict) else {}
            return _answered(entry, Outcome.EXISTS, exc.reply, exc.code, exc.text, hint=exc.hint,
                             bill_id=str(bill["bill_id"]) if bill.get("bill_id") else None)
        return _answered(entry, Outcome.REJECTED, exc.reply, exc.code, exc.text, hint=exc.hint)
    except JustClickError as exc:
        reply = {"error": str(exc), "http_status": getattr(exc, "status", None),
                 "body": getattr(exc, "body", "")}
        outcome = Outcome.UNKNOWN if exc.may_have_reached else Outcome.NOT_SENT
        return _answered(entry, outcome, reply, None, str(exc), said=said(exc.args[0] if exc.args else ""))
    return _answered(entry, Outcome.CREATED, reply.raw, reply.code, reply.text)


def _answered(entry: dict, outcome: Outcome, reply, code, text: str, **more) -> dict:
    return {**entry, "outcome": outcome.value, "reply": reply, "code": code, "text": text,
            "answered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **{name: value for name, value in more.items() if value is not None}}


def _keep(entry: dict, hid: str | None, key: str) -> None:
    """Write the outcome over the "sending" record; if the store fails, into the journal."""
    try:
        history.update(entry, hid)
        services().index.put(key, entry)
    except Exception:
        log.exception("the outcome could not be stored; it goes to the journal")
        entry["unsaved"] = True
        try:
            services().journal.append({"hid": hid, "key": key, "entry": entry})
        except OSError:
            log.exception("the journal could not be written either; this process remembers attempt %s",
                          entry["id"])


def _earlier_to_confirm(recent: list[dict], pending: list[dict], token: str) -> dict | None:
    """An earlier attempt that makes this one risky: the same order being sent right now, created
    minutes ago, or with an unknown outcome (it may exist). Attempts of this very form are not
    "earlier": a replay of it is answered with its outcome."""
    attempts = {s["id"]: s for s in recent}
    attempts.update((s["id"], s) for s in map(summary, pending))  # what the store has not got yet
    now = datetime.now(UTC)
    for attempt in sorted(attempts.values(), key=lambda s: s["at"], reverse=True):
        attempt = history.as_known(attempt)
        if attempt.get("token") == token:
            continue
        if attempt["outcome"] in (Outcome.SENDING, Outcome.UNKNOWN, "unchecked"):
            return attempt
        recent_enough = now - datetime.fromisoformat(attempt["at"]) <= DUPLICATE_WINDOW
        if attempt["outcome"] in MADE and recent_enough:
            return attempt
    return None


def _twin(token: str) -> dict | None:
    """The attempt a form was sent as, once it has an answer (or its sender is known to have stopped)."""
    journal = services().journal
    entry_id = services().tokens.outcome(token)
    recorded_by = time.monotonic() + RECORD_WAIT
    while entry_id:
        entry = journal.known(entry_id) or history.find(entry_id)
        if entry is None and time.monotonic() < recorded_by:
            pass  # claimed a moment ago, its record is being written
        elif entry is None or entry["outcome"] != Outcome.SENDING:
            return entry
        time.sleep(POLL)
    return None


def replay_journal() -> None:
    """Before a request: outcomes kept in the journal go into the store once it answers again."""
    _replay(services().journal, force=False)


def _replay(journal, force: bool) -> bool:
    """True when the store has every outcome the journal kept."""
    limit = current_app.config["HISTORY_LIMIT"]
    history_store, index = services().history, services().index

    def store(record: dict) -> None:
        if record.get("hid"):
            history_store.update(record["hid"], record["entry"], limit)
        team_orders.keep(services().archive, record["entry"])
        index.put(record["key"], record["entry"])

    return journal.replay(store, force=force)
