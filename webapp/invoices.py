"""Finding the invoice an order made, and its payment status, with JustClick's signed API 1.0 reads.

`createorder` answers `result: []`, so the invoice is found afterwards: GetBills lists the customer's
invoices with their products; the newest whose products are exactly those sent, and which
getOrderDetails shows was created no earlier than the send, is the one.

Outcomes: an `Invoice`; None when JustClick does not list it (yet); or one of the client's
`JustClickError`s when the lookup could not be made (`failure_reason` says why, for an operator).
Nothing here changes an order, and nothing of Flask is imported.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .justclick import BadResponse, JustClickClient, JustClickError, Rejected
from .words import Words

#: How much earlier than the send an invoice may say it was made: the two clocks differ.
CLOCK_SLACK = timedelta(minutes=2)
#: getOrderDetails calls one lookup may make, however many invoices match.
MAX_DETAIL_CALLS = 3
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


def find_invoice(
    client: JustClickClient,
    email: str,
    product_names: Iterable[str],
    sent_at: datetime,
    *,
    site_url: str,
    tz: str | tzinfo | None = None,
    exclude: Collection[str] = (),
    link_hosts: Collection[str] = (),
) -> Invoice | None:
    """The invoice an order for `email` with exactly `product_names` (good_name slugs) made.

    `sent_at` is when createorder was sent (aware). `site_url` is the base of relative payment
    links (`site_of(api_url)`, or any prefix that serves /bill/...). `tz` is the account's time zone,
    for `created` given as a date-time (UTC when None). `exclude`: invoice numbers already claimed
    by other attempts. `link_hosts`: hosts besides site_url's and JustClick's where a payment link may
    point (".example.com": that domain and its subdomains). Returns None when JustClick does not list
    it (yet); raises JustClickError when it could not look.
    """
    if sent_at.tzinfo is None:
        raise ValueError("sent_at must be timezone-aware")
    wanted = {name.strip() for name in product_names if name.strip()}
    bills = client.get_bills(email)
    candidates = sorted(
        (number for number, goods in bills.items() if _good_names(number, goods) == wanted),
        key=_bill_number, reverse=True,
    )
    claimed = {str(number) for number in exclude}
    candidates = [number for number in candidates if number not in claimed]
    not_before = sent_at - CLOCK_SLACK
    for number in candidates[:MAX_DETAIL_CALLS]:
        details = client.get_order_details(number, good_info=True)
        if details is None:  # listed, but not yet (or no longer) readable
            continue
        invoice = _invoice(number, details, site_url, tz, link_hosts)
        if invoice.created < not_before:
            return None  # numbers go up with time: every other candidate is older still
        return invoice
    return None


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
