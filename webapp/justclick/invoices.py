"""Finding the invoice an order made, and its payment status, with JustClick's signed API 1.0 reads.

`createorder` answers `result: []`, so the invoice is identified afterwards: GetBills lists the
customer's invoices with their products; getOrderDetails shows each one's prices, names, fields and
creation time. An invoice is an attempt's own only when it agrees with everything the attempt sent
and was made inside the attempt's own window (`find_invoice`); a guess is worse than "unknown".

Outcomes: a `Finding` (the invoice, or candidates for the operator, or nothing yet); or one of the
client's `JustClickError`s when the lookup could not be made (`failure_reason` says why).
Nothing here changes an order, and nothing of Flask is imported.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from webapp.i18n.words import Words
from webapp.justclick.client import BadResponse, JustClickClient, JustClickError, Rejected

#: How far outside an attempt's own window (send … answer) its invoice's `created` may lie, once the
#: skew of JustClick's clock is applied: JustClick stamps it somewhere inside the call; the rest is the
#: Date header's one-second grain and the time a reply takes.
CLOCK_SLACK = timedelta(seconds=60)
#: getOrderDetails calls one lookup may make, however many invoices match.
MAX_DETAIL_CALLS = 4
#: JustClick's own domains, where every account's payment pages may live. A leading "." means the
#: domain and its subdomains, as in PAYMENT_LINK_HOSTS.
JUSTCLICK_HOSTS = (".justclick.ru", ".justclick.io")

_UNIX_SECONDS = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class Invoice:
    number: str
    sum_to_pay: Decimal | None  # bill_sum_topay: what is left to pay
    order_sum: Decimal | None  # price: the order's total
    pay_status: str  # as JustClick says it: waiting, paid, cancel, ...
    link: str | None  # the payment page, absolute; None when JustClick gives none usable
    created: datetime  # aware, UTC
    # A payment link JustClick gave that is not shown: the host it pointed to, or, for a link that is
    # no plain web address, its scheme ("javascript:") or "". None when nothing was refused.
    link_refused: str | None = None

    @property
    def paid(self) -> bool:
        return self.pay_status.lower() == "paid"

    @property
    def link_refusal(self) -> Words | None:
        """Why the invoice shows no payment link although JustClick gave one, for the operator."""
        if self.link_refused is None:
            return None
        if _HOST_NAME.fullmatch(self.link_refused):
            return Words("JustClick gave a payment link on another site (%(host)s), so the desk does not "
                         "show it: open the invoice in JustClick.", host=self.link_refused)
        return Words("JustClick gave a payment link that is not a web address of the account's site, so "
                     "the desk does not show it: open the invoice in JustClick.")

    def to_dict(self) -> dict:
        """A JSON-ready form, for keeping in a history entry."""
        money = {k: None if v is None else str(v) for k, v in
                 (("sum_to_pay", self.sum_to_pay), ("order_sum", self.order_sum))}
        return {"number": self.number, **money, "pay_status": self.pay_status, "link": self.link,
                "link_refused": self.link_refused, "created": self.created.isoformat()}

    @classmethod
    def from_dict(cls, data: dict) -> Invoice:
        return cls(
            number=data["number"],
            sum_to_pay=None if data["sum_to_pay"] is None else Decimal(data["sum_to_pay"]),
            order_sum=None if data["order_sum"] is None else Decimal(data["order_sum"]),
            pay_status=data["pay_status"], link=data["link"],
            created=datetime.fromisoformat(data["created"]),
            link_refused=data.get("link_refused"),  # absent from entries kept before links were checked
        )


def site_of(api_url: str) -> str:
    """The account's own site, to which relative payment links belong: the API URL's scheme and host."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Expected:
    """What an attempt sent, as the invoice it made must show it, and when it can have been made.

    `prices` holds, per product, the price the invoice must carry: the one typed, or the catalogue
    price the desk knew when sending; None where it knew none (not compared). `fields` holds the
    other sent values getOrderDetails reports, by getOrderDetails' names. `window` is the attempt's
    own stretch of time on the desk's clock: from the send to its answer (or to the end of the read
    timeout, when no answer came)."""

    email: str
    products: tuple[str, ...]
    prices: tuple[Decimal | None, ...]
    window: tuple[datetime, datetime]
    fields: dict[str, str] = field(default_factory=dict)
    utm: dict[str, str] = field(default_factory=dict)
    coupon: frozenset[str] = frozenset()  # the coupon sent, as its id and its code; empty: none sent

    @classmethod
    def of(cls, sent: dict, window: tuple[datetime, datetime], *, catalogue_prices: dict | None = None,
           coupon_codes: dict | None = None) -> Expected:
        names = [n.strip() for n in sent.get("product_names", "").split(",") if n.strip()]
        typed = [p.strip() for p in sent.get("product_prices", "").split(",") if p.strip()]
        known = catalogue_prices or {}
        prices = tuple(_decimal(typed[i]) if i < len(typed) else _decimal(known.get(name))
                       for i, name in enumerate(names))
        coupon, codes = str(sent.get("coupon") or "").strip(), coupon_codes or {}
        return cls(
            email=sent.get("customer_email", ""), products=tuple(names), prices=prices, window=window,
            fields={theirs: sent[ours] for ours, theirs in DETAIL_FIELDS.items() if sent.get(ours)},
            utm={part: sent[f"utm_{part}"] for part in UTM_PARTS if sent.get(f"utm_{part}")},
            # JustClick reports the coupon's code: without it known, the coupon is not compared.
            coupon=frozenset((coupon, codes[coupon])) if coupon in codes else frozenset(),
        )


#: Sent fields that getOrderDetails reports back: ours -> its name.
DETAIL_FIELDS = {"customer_first_name": "first_name", "customer_last_name": "last_name",
                 "customer_middle_name": "middle_name", "customer_phone": "phone", "note": "comment",
                 "order_tag": "tag"}
UTM_PARTS = ("medium", "source", "campaign", "content", "term")


@dataclass(frozen=True)
class Candidate:
    """An invoice of the customer with the attempt's products that agrees with everything that
    could be compared, but which the desk cannot call the attempt's own by itself."""

    invoice: Invoice
    titles: tuple[str, ...]
    customer: str  # the name on the invoice
    timing: str  # "inside" the attempt's window, "outside" it, or "unknown" (a local time, no zone)


@dataclass(frozen=True)
class Finding:
    """What a lookup found: the attempt's own invoice, or candidates for the operator, or neither."""

    invoice: Invoice | None = None
    candidates: tuple[Candidate, ...] = ()


def find_invoice(
    client: JustClickClient,
    expected: Expected,
    *,
    site_url: str,
    tz: str | tzinfo | None = None,
    exclude: Collection[str] = (),
    link_hosts: Collection[str] = (),
    bills: dict | None = None,
) -> Finding:
    """The invoice an attempt made, identified, never guessed.

    Among the customer's invoices with exactly the attempt's products (GetBills), newest first, one is
    the attempt's own only when getOrderDetails agrees with everything the attempt sent that it
    reports (each product's price, names, phone, comment, tag, coupon, UTM) and its `created` lies in
    the attempt's window, placed on JustClick's clock by the skew its Date header shows. One such
    invoice is the finding. Several, or ones that fit but for their time (or whose local time cannot
    be placed without the account's zone), are candidates for the operator: nothing is attached.
    `exclude`: invoices other attempts of the team have claimed. `link_hosts`: hosts besides site_url's
    and JustClick's where a payment link may point. `bills`: the customer's GetBills, when the caller
    has just listed them for several attempts of one customer. Raises JustClickError when it could not look.
    """
    start, end = expected.window
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the window must be timezone-aware")
    wanted = set(expected.products)
    bills = client.get_bills(expected.email) if bills is None else bills
    skew = timedelta(seconds=client.clock_offset or 0.0)
    earliest, latest = start + skew - CLOCK_SLACK, end + skew + CLOCK_SLACK
    numbers = sorted((n for n, goods in bills.items() if _good_names(n, goods) == wanted
                      and str(n) not in {str(x) for x in exclude}), key=_bill_number, reverse=True)
    fits, others = [], []
    for number in numbers[:MAX_DETAIL_CALLS]:
        details = client.get_order_details(number, good_info=True)
        if details is None:  # listed, but not (yet, or any longer) readable
            continue
        invoice = _invoice(number, details, site_url, tz, link_hosts)
        at = _placed(details.get("created"), tz)
        timing = "unknown" if at is None else "inside" if earliest <= at <= latest else "outside"
        if _agrees(expected, details, _slugs(bills[number])):
            candidate = Candidate(invoice, _titles(details, bills[number]), _customer(details), timing)
            (fits if timing == "inside" else others).append(candidate)
        if at is not None and at < earliest:
            break  # numbers go up with time: every other invoice is older still
    if len(fits) == 1 and not any(c.timing == "unknown" for c in others):
        return Finding(invoice=fits[0].invoice)
    return Finding(candidates=tuple(fits + others))


def made_since(client: JustClickClient, email: str, products: Iterable[str], since: datetime, *,
               tz: str | tzinfo | None = None) -> list[tuple[str, datetime | None]]:
    """The customer's invoices with exactly these products made since `since` (the desk's clock), newest
    first, as (number, creation time on the desk's clock, or None where a local time cannot be placed:
    such an invoice may be recent). For the duplicate guard when its own memory is younger than its
    window. Raises JustClickError when it could not look."""
    wanted = {name.strip() for name in products if name.strip()}
    bills = client.get_bills(email)
    skew = timedelta(seconds=client.clock_offset or 0.0)
    numbers = sorted((n for n, goods in bills.items() if _good_names(n, goods) == wanted),
                     key=_bill_number, reverse=True)
    found = []
    for number in numbers[:MAX_DETAIL_CALLS]:
        details = client.get_order_details(number, good_info=False)
        if details is None:
            continue
        at = _placed(details.get("created"), tz)
        if at is not None and at - skew < since - CLOCK_SLACK:
            break  # numbers go up with time: every other invoice is older still
        found.append((str(number), None if at is None else at - skew))
    return found


def _agrees(expected: Expected, details: dict, slugs: dict[str, str]) -> bool:
    """Whether the invoice shows what the attempt sent: each product at its price, and every other
    sent field that getOrderDetails reports. A field it does not report is not held against it."""
    items = details.get("items")
    if not isinstance(items, list):
        return False  # the prices cannot be compared: the invoice cannot be called the attempt's
    if not all(isinstance(item, dict) for item in items) or len(items) != len(expected.products):
        return False
    charged = [(slugs.get(str(i.get("id"))), _decimal(i.get("price", i.get("sum")))) for i in items]
    sent = list(zip(expected.products, expected.prices, strict=True))
    if slugs:  # each product at its own price
        prices = all(_prices_agree([p for n, p in sent if n == name], [p for n, p in charged if n == name])
                     for name in set(expected.products))
    else:  # products listed without ids (PHP-style): the prices as a whole
        prices = _prices_agree([p for _, p in sent], [p for _, p in charged])
    return prices and _others_agree(expected, details)


def _prices_agree(sent: list, charged: list) -> bool:
    """Whether the prices charged are those sent, as a whole: each known price once, and as many
    others as were sent without a known price."""
    left = list(charged)
    for price in (p for p in sent if p is not None):
        if price not in left:
            return False
        left.remove(price)
    return len(left) == sum(1 for p in sent if p is None)


def _others_agree(expected: Expected, details: dict) -> bool:
    for theirs, ours in expected.fields.items():
        if theirs in details and not _same(theirs, details[theirs], ours):
            return False
    utm = details.get("utm") if isinstance(details.get("utm"), dict) else {}
    if any(part in utm and not _same("utm", utm[part], value) for part, value in expected.utm.items()):
        return False
    if expected.coupon and "kupon" in details and str(details["kupon"]).strip() not in expected.coupon:
        return False
    return True


def _same(name: str, theirs: object, ours: str) -> bool:
    if name == "phone":  # JustClick may write a number its own way: the digits decide
        return re.sub(r"\D", "", str(theirs)) == re.sub(r"\D", "", ours)
    return " ".join(str(theirs).split()).casefold() == " ".join(ours.split()).casefold()


def _slugs(goods: object) -> dict[str, str]:
    """A GetBills invoice's products: product id -> good_name."""
    if isinstance(goods, dict):
        return {str(k): v["good_name"].strip() for k, v in goods.items()}
    return {str(g.get("good_id") or g.get("id")): g["good_name"].strip()
            for g in goods if g.get("good_id") or g.get("id")}


def _titles(details: dict, goods: object) -> tuple[str, ...]:
    items = details.get("items") if isinstance(details.get("items"), list) else []
    titles = [str(i.get("title", "")) for i in items if isinstance(i, dict) and i.get("title")]
    if titles:
        return tuple(titles)
    listed = goods.values() if isinstance(goods, dict) else goods
    return tuple(str(g.get("good_title") or g.get("good_name")) for g in listed)


def _customer(details: dict) -> str:
    parts = (details.get(f) for f in ("last_name", "first_name", "middle_name"))
    name = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    return " ".join(filter(None, (name, f"<{details['email']}>" if details.get("email") else "")))


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _placed(value: object, tz: str | tzinfo | None) -> datetime | None:
    """`created` as a moment, or None when it is a local time and the account's zone is not known:
    such a time is never used to decide anything by itself."""
    if isinstance(value, str) and not _UNIX_SECONDS.fullmatch(value.strip()) and tz is None:
        return None
    return _created(value, tz)


def refresh_status(client: JustClickClient, bill_id: str | int, *, site_url: str,
                   tz: str | tzinfo | None = None, link_hosts: Collection[str] = ()) -> Invoice | None:
    """A known invoice read afresh (for its payment status); None if JustClick no longer has it."""
    details = client.get_order_details(bill_id, good_info=True)
    return None if details is None else _invoice(str(bill_id), details, site_url, tz, link_hosts)


def failure_reason(exc: JustClickError) -> str:
    """Why the invoice could not be looked up, in words an operator can act on."""
    if isinstance(exc, Rejected):
        if exc.hint:
            return Words("%(hint)s (JustClick answered error %(code)s: %(text)s)",
                         hint=exc.hint, code=exc.code, text=exc.text)
        return Words("JustClick answered error %(code)s: %(text)s", code=exc.code, text=exc.text)
    return exc.args[0] if exc.args and isinstance(exc.args[0], Words) else str(exc)


# --- reading JustClick's replies ---------------------------------------------------------------

def _garbage(what: str, value: object) -> BadResponse:
    return BadResponse(Words("JustClick's %(what)s is not what the desk can read.", what=what), status=200,
                       body=repr(value)[:500])


def _bill_number(number: str) -> int:
    if not str(number).isdigit():
        raise _garbage(Words("invoice number in GetBills"), number)
    return int(number)


def _good_names(number: str, goods: object) -> set[str]:
    """The products of one GetBills invoice, keyed by product id (or, PHP-style, listed)."""
    _bill_number(number)
    items = list(goods.values()) if isinstance(goods, dict) else goods
    if not isinstance(items, list) or not all(
            isinstance(g, dict) and isinstance(g.get("good_name"), str) for g in items):
        raise _garbage(Words("product list in GetBills"), goods)
    return {g["good_name"].strip() for g in items}


def _invoice(number: str, details: dict, site_url: str, tz: str | tzinfo | None,
             link_hosts: Collection[str] = ()) -> Invoice:
    link, refused = _absolute_link(details.get("link"), details.get("domain"), site_url, link_hosts)
    return Invoice(
        number=str(number),
        sum_to_pay=_money("bill_sum_topay", details.get("bill_sum_topay")),
        order_sum=_money("price", details.get("price")),
        pay_status=str(details.get("pay_status") or "").strip(),
        link=link,
        created=_created(details.get("created"), tz),
        link_refused=refused,
    )


def _created(value: object, tz: str | tzinfo | None) -> datetime:
    """`created` as unix seconds, a string of them, or `YYYY-MM-DD HH:MM:SS` in the account's zone."""
    if isinstance(value, str) and _UNIX_SECONDS.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            local = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            pass
        else:
            zone = ZoneInfo(tz) if isinstance(tz, str) else tz or UTC
            return local.replace(tzinfo=zone).astimezone(UTC)
    raise _garbage(Words("creation time in getOrderDetails"), value)


def _money(name: str, value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = None
    if isinstance(value, bool) or amount is None or not amount.is_finite():
        raise _garbage(Words("%(field)s in getOrderDetails", field=name), value)
    return amount


def _absolute_link(link: object, domain: object, site_url: str,
                   link_hosts: Collection[str] = ()) -> tuple[str | None, str | None]:
    """The payment link made absolute (a relative one belongs to the order's domain, else the site),
    kept only on the account's own hosts, since it goes to the customer: (link, None). A link given but
    refused is (None, where it pointed: see Invoice.link_refused); no link at all is (None, None)."""
    if not isinstance(link, str) or not link.strip():
        return None, None
    link = link.strip()
    scheme = urlsplit(site_url).scheme or "https"
    if link.startswith("//"):
        link = f"{scheme}:{link}"
    elif not urlsplit(link).scheme:
        base = site_url
        if isinstance(domain, str) and domain.strip():
            domain = domain.strip()
            base = domain if "://" in domain else f"{scheme}://{domain}"
        # Joined, not urljoin-ed: a site_url with a path (a mounted stand-in) keeps it.
        link = f"{base.rstrip('/')}/{link.lstrip('/')}"
    parts = urlsplit(link)
    # Only web links: anything else (javascript:, data:) must never become a link in a page.
    if parts.scheme not in ("http", "https"):
        return None, f"{parts.scheme}:" if parts.scheme else ""
    host = _link_host(link)
    if host is None:
        return None, ""
    account = (urlsplit(site_url).hostname or "", *JUSTCLICK_HOSTS, *link_hosts)
    return (link, None) if _on_hosts(host, account) else (None, host)


#: A host name as the desk compares them: ASCII (IDNA) labels, lowercase.
_HOST_NAME = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*")
#: What a browser reads otherwise than urlsplit does (it drops tabs and newlines, and takes "\" for
#: "/"), so that a link holding them may open another host than the one checked.
_MISREAD = re.compile(r"[\x00-\x20\x7f\\]")


def _link_host(link: str) -> str | None:
    """The host a browser opens for `link`, as a plain host name; None when that is not certain."""
    parts = urlsplit(link)
    if _MISREAD.search(link) or "@" in parts.netloc or not parts.hostname:
        return None  # a user name before "@" is a classic way to make a link read as another site
    try:
        _ = parts.port  # raises for a port that is no number, which no browser opens
        host = parts.hostname.rstrip(".").encode("idna").decode("ascii")  # as a browser writes it
    except (ValueError, UnicodeError):
        return None
    return host if _HOST_NAME.fullmatch(host) else None


def _on_hosts(host: str, hosts: Iterable[str]) -> bool:
    """Whether `host` is one of `hosts`; an entry with a leading "." covers that domain's subdomains."""
    for allowed in hosts:
        domain = allowed.removeprefix(".")
        if host == domain or (allowed.startswith(".") and host.endswith(allowed)):
            return True
    return False
