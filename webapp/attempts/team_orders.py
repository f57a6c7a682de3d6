"""The team's orders: every attempt any operator made, by form or table, kept ORDER_RETENTION_DAYS in the
desk's store (a storage.OrderArchive) beside each session's history, and how the Orders page finds them.

Every write of an attempt to a history is also written here (attempts.history), so the team's list
and an attempt's page outlive the session that sent it. The list reads rows, not records: a row is
the attempt without JustClick's reply and with only the order fields a list shows. Its search and
filters read a text kept beside each row (search_text), so that the store finds the page among ten
thousand orders without reading each one: the customer's names, email, phones (digits), invoice
number, product slugs, and marks of its operator and payment state. A product's title is matched by
the slugs of the products whose titles hold the word. Same rules as the history's search
(attempts.listing): a phone matches however it is typed.
No Flask here: the view gives the store, the operator, the clock, the zone and the lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from webapp.attempts import listing
from webapp.attempts.outcomes import MADE, PENDING
from webapp.storage.interfaces import OrderArchive

#: The order fields a row keeps: what the list shows and what its search reads.
LISTED_FIELDS = ("customer_email", "customer_first_name", "customer_last_name", "customer_middle_name",
                 "customer_phone", "customer_shipping_phone", "product_names", "product_prices")
PAGE_SIZE = 40  # a full page and the assets of a first visit stay under 45 KB on the wire
MAX_PAGE = 500  # a page further on reads as many rows as every page before it
#: A search reads at most this many words, each matching at most this many products by title: a
#: query is one statement's parameters, and no one types more.
MAX_WORDS, MAX_TITLES = 10, 30
#: The payment states the list filters by, as the desk last knew them.
STATES = ("waiting", "paid", "cancelled", "unknown")
PERIODS = ("today", "week", "range")


def row_of(entry: dict) -> dict:
    sent = entry.get("sent") if isinstance(entry.get("sent"), dict) else {}
    return {**{name: value for name, value in entry.items() if name not in ("reply", "sent")},
            "sent": {name: sent[name] for name in LISTED_FIELDS if name in sent}}


def made_at(entry: dict) -> float:
    """When the attempt was made, as the list orders it. Its record says so to the second; written as it
    is made (the archive keeps the first time it is given), the clock's fraction keeps the attempts of
    one second in the order they were made."""
    second = datetime.fromisoformat(entry["at"]).timestamp()
    return max(second, min(time_now(), second + 0.999))


def time_now() -> float:
    return datetime.now(UTC).timestamp()


def keep(archive: OrderArchive, entry: dict) -> None:
    archive.put(made_at(entry), entry, row_of(entry), search_text(entry))


SEPARATOR = "\x1f"  # between the parts of a search text: a word of a query never spans two of them
SPACED = "\x1e"  # between every letter of a mark: no word typed in the search box is found in one


def _mark(name: str, value: str) -> str:
    """A filter's mark (its operator, its payment state, its invoice), which only that filter finds:
    a search for "wait" or for a customer called like an operator must not find it."""
    return SEPARATOR + SPACED.join(f"{name}={value}".casefold()) + SEPARATOR


def invoice_words(number: str) -> list[tuple[str, ...]]:
    """What finds the attempt that made invoice `number` (exactly that number)."""
    return [(_mark("invoice", number),)]


def search_text(entry: dict) -> str:
    """What the Orders page's search and filters read of an attempt, case folded."""
    row = row_of(entry)
    sent, invoice = row["sent"], row.get("invoice") if isinstance(row.get("invoice"), dict) else {}
    phones = (re.sub(r"\D", "", str(sent.get(name) or ""))
              for name in ("customer_phone", "customer_shipping_phone"))
    parts = [listing.customer_name(row), sent.get("customer_middle_name"), sent.get("customer_email"),
             row.get("bill_id") or invoice.get("number"), sent.get("product_names"), *phones]
    text = SEPARATOR.join(re.sub(r"[\x1e\x1f]", " ", str(part)) for part in parts if part)
    number = str(row.get("bill_id") or invoice.get("number") or "")
    return (_mark("operator", str(row.get("operator") or "")) + _mark("state", state_of(row) or "none")
            + (_mark("invoice", number) if number else "") + text.casefold())


def words_of(filters: Filters, operator: str, catalog) -> list[tuple[str, ...]]:
    """What the archive's texts must hold for these filters: each item one of its alternatives."""
    words: list[tuple[str, ...]] = []
    if filters.mine:
        words.append((_mark("operator", operator),))
    if filters.state:
        words.append((_mark("state", filters.state),))
    query = filters.query
    digits = re.sub(r"\D", "", query)
    if re.fullmatch(r"[\d\s()+\-.]+", query) and len(digits) >= 3:
        # A number: a phone typed any way ("8 (912) …" and "+7 912 …" are one number: its last ten
        # digits), or an invoice number.
        return [*words, (digits[-10:], digits)] if len(digits) > 10 else [*words, (digits,)]
    goods = catalog.goods_by_name if catalog is not None else {}
    for word in re.sub(r"[\x1e\x1f]", "", query).casefold().split()[:MAX_WORDS]:
        slugs = [name.casefold() for name, good in goods.items()
                 if word in str(good.get("good_title") or "").casefold()]
        words.append((word, *slugs[:MAX_TITLES]))
    return words


def state_of(row: dict) -> str | None:
    """Where the order stands: waiting for payment, paid, cancelled, or unknown (the attempt's outcome
    is not known yet); None for an attempt that made no order (refused, never sent, settled as not made).
    A made order whose invoice has not been read yet is waiting: nothing says it was paid."""
    outcome = row.get("outcome")
    if outcome in PENDING:
        return "unknown"
    if outcome not in MADE:
        return None
    invoice = row.get("invoice") if isinstance(row.get("invoice"), dict) else {}
    status = str(invoice.get("pay_status") or "").strip().lower()
    return {"paid": "paid", "cancel": "cancelled"}.get(status, "waiting")


@dataclass(frozen=True)
class Filters:
    """What the Orders page shows, as its URL says it (so a link to "my unpaid this week" is shared)."""

    query: str = ""
    mine: bool = False
    state: str = ""  # one of STATES, or every attempt
    period: str = ""  # one of PERIODS, or the whole retention
    start: date | None = None  # the range's first day and last day, in the account's zone
    end: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        """From the query string; what cannot be read is left out rather than refused."""
        start, end = _day(args.get("from")), _day(args.get("to"))
        period = args.get("period", "") or ("range" if start or end else "")  # dates given: between them
        return cls(query=args.get("q", "").strip()[:200], mine=args.get("who") == "mine",
                   state=args.get("state", "") if args.get("state") in STATES else "",
                   period=period if period in PERIODS else "", start=start, end=end,
                   page=max(1, min(_int(args.get("page")), MAX_PAGE)))

    def args(self, **changes) -> dict:
        """The query string of these filters (with `changes`), without what is at its default."""
        f = replace(self, **changes)
        given = {"q": f.query, "who": "mine" if f.mine else "", "state": f.state, "period": f.period,
                 "from": f.start.isoformat() if f.start and f.period == "range" else "",
                 "to": f.end.isoformat() if f.end and f.period == "range" else "",
                 "page": str(f.page) if f.page > 1 else ""}
        return {name: value for name, value in given.items() if value}

    @property
    def narrowed(self) -> bool:
        """Whether anything but the period narrows the list."""
        return bool(self.query or self.mine or self.state)

    def window(self, now: datetime, zone: str | None) -> tuple[float, float]:
        """The period as unix times [since, until): days begin at midnight in the account's zone."""
        tz = ZoneInfo(zone) if zone else UTC
        today = now.astimezone(tz).date()
        first, last = {"today": (today, today),
                       "week": (today - timedelta(days=today.weekday()), today),
                       "range": (self.start, self.end)}.get(self.period, (None, None))
        since = datetime.combine(first, time(), tz).timestamp() if first else 0.0
        until = datetime.combine(last + timedelta(days=1), time(), tz).timestamp() if last else float("inf")
        return since, until


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    more: bool  # older rows follow


def find(archive: OrderArchive, filters: Filters, *, operator: str, now: datetime, zone: str | None,
         catalog) -> Page:
    """One page of the team's attempts, newest first, as the filters narrow them."""
    since, until = filters.window(now, zone)
    end = filters.page * PAGE_SIZE
    rows = archive.rows(since, until, limit=end + 1, words=words_of(filters, operator, catalog))
    return Page(rows[end - PAGE_SIZE:end], more=len(rows) > end)


def waited(row: dict, now: datetime) -> timedelta | None:
    """How long an unpaid invoice has waited since its order was made; None when it is not waiting."""
    if state_of(row) != "waiting":
        return None
    return now - datetime.fromisoformat(row["at"])


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _int(text: str | None) -> int:
    try:
        return int(text or 1)
    except ValueError:
        return 1
