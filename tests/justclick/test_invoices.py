"""Finding the invoice an order made: against the stand-in over real HTTP, and pytest-httpserver for
the replies the stand-in never gives (other `created` forms, domains, garbage, refusals).

An invoice is an attempt's own only when it agrees with everything the attempt sent and was made
inside the attempt's own window; the tests of those rules each show a case the former "newest invoice
with these products" rule would have attached wrongly."""

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import requests
from werkzeug.wrappers import Response

from tests.support.desk import API_KEY, LOGIN, reply_hash
from webapp.justclick.client import BadResponse, JustClickClient, Rejected, Unavailable
from webapp.justclick.invoices import (
    CLOCK_SLACK,
    MAX_DETAIL_CALLS,
    Expected,
    Finding,
    Invoice,
    failure_reason,
    find_invoice,
    refresh_status,
    site_of,
)
from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS

EMAIL = "maria@example.com"
#: What the desk knows when it sends: the catalogue's prices and the coupons' codes.
CATALOGUE = {g["good_name"]: g["good_sum"] for g in SEED_GOODS}
COUPONS = {str(c["id"]): c["coupon"] for c in SEED_COUPONS}


def make_client(url, login=LOGIN, timeout=10.0):
    return JustClickClient(url, API_KEY, login=login, timeout=timeout, connect_timeout=timeout)


def expect(sent: dict, start: datetime, end: datetime | None = None, **known) -> Expected:
    """What an attempt sent (to EMAIL unless it says otherwise), made between start and end."""
    return Expected.of({"customer_email": EMAIL, **sent}, (start, end or start), **known)


def just_now():
    return datetime.now(UTC)


@pytest.fixture
def shop(sandbox_server):
    """The stand-in, a client for it, and a way to make attempts there."""
    return _shop(sandbox_server, sandbox_server.url)


def _shop(server, url):
    client = make_client(url)

    def create(products, email=EMAIL, **fields):
        """One attempt: its invoice's number, what it sent, and its own window."""
        sent = {"customer_email": email, "product_names": products, **fields}
        start = just_now()
        client.create_order(sent)
        window = (start, just_now())
        number = str(server.book.all()[0]["bill_id"])
        return SimpleNamespace(number=number, sent=sent, window=window,
                               expected=Expected.of(sent, window, catalogue_prices=CATALOGUE,
                                                    coupon_codes=COUPONS))

    def find(expected, **options):
        return find_invoice(client, expected, site_url=site_of(url), **options)

    server.client, server.create, server.find, server.site = client, create, find, site_of(url)
    return server


# --- against the stand-in ------------------------------------------------------------------------

def test_the_invoice_just_made_is_found_with_its_sums_status_and_working_link(shop):
    made = shop.create("digital,sales-in-messengers", product_prices="500.00")

    invoice = shop.find(made.expected).invoice
    assert invoice.number == made.number
    assert invoice.order_sum == invoice.sum_to_pay == Decimal("15400.00")  # 500 sent + 14900 catalogue
    assert invoice.pay_status == "waiting" and not invoice.paid
    assert invoice.link.startswith(f"{shop.root}bill/{made.number}/")
    start, end = made.window
    assert start - timedelta(seconds=1) <= invoice.created <= end + timedelta(seconds=1)
    page = requests.get(invoice.link, timeout=5)
    assert page.status_code == 200 and "15400.00" in page.text


def test_two_identical_invoices_inside_one_window_are_candidates_not_the_newest(shop):
    start = just_now()
    first = shop.create("digital").number
    second = shop.create("digital").number
    assert int(second) > int(first)
    found = shop.find(expect({"product_names": "digital"}, start, just_now(), catalogue_prices=CATALOGUE))
    assert found.invoice is None
    assert [c.invoice.number for c in found.candidates] == [second, first]
    assert {(c.timing, c.titles, c.customer) for c in found.candidates} == {
        ("inside", ("Digital product",), f"<{EMAIL}>")}
    # An invoice another attempt already claimed is passed over: the other one is this attempt's.
    found = shop.find(expect({"product_names": "digital"}, start, just_now()), exclude={second})
    assert found == Finding(invoice=found.invoice) and found.invoice.number == first


def test_the_same_products_in_another_order_match(shop):
    start = just_now()
    number = shop.create("sales-in-messengers,digital", product_prices="100.00,200.00").number
    sent = {"product_names": "digital,sales-in-messengers", "product_prices": "200,100"}
    assert shop.find(expect(sent, start, just_now())).invoice.number == number


@pytest.mark.parametrize("sent", ["digital", "digital,copywriting-club,mentor-session",
                                  "digital,mentor-session"])
def test_different_products_do_not_match(shop, sent):
    start = just_now()
    shop.create("digital,copywriting-club")
    shop.create(sent, email="someone.else@example.com")  # the right products, another email
    assert shop.find(expect({"product_names": sent}, start, just_now())) == Finding()


def test_an_invoice_older_than_the_window_is_never_the_finding_but_clock_slack_is_allowed(shop):
    made = shop.create("digital")
    sent = {"product_names": "digital"}
    later = just_now() + timedelta(minutes=3)
    found = shop.find(expect(sent, later, later + timedelta(seconds=2)))
    assert found.invoice is None
    assert [(c.invoice.number, c.timing) for c in found.candidates] == [(made.number, "outside")]
    slightly_later = just_now() + CLOCK_SLACK / 2  # JustClick's stamp may precede the window a little
    assert shop.find(expect(sent, slightly_later)).invoice.number == made.number


def test_an_email_without_invoices_is_not_listed(shop):
    sent = {"customer_email": "nobody@example.com", "product_names": "digital"}
    assert shop.find(expect(sent, just_now())) == Finding()


def test_slow_made_the_order_and_is_found_down_made_none(make_sandbox):
    server = make_sandbox(slow_seconds=3.0)  # long after the client's 0.3 s, however busy the machine
    impatient, client = make_client(server.url, timeout=0.3), make_client(server.url)
    start = just_now()
    for local in ("slow", "down"):
        with pytest.raises(Unavailable if local == "slow" else BadResponse):
            impatient.create_order({"customer_email": f"{local}@sandbox.test", "product_names": "digital"})
    end = just_now()  # an unknown outcome's window ends where the desk stopped waiting
    site = site_of(server.url)
    found = find_invoice(client, expect({"customer_email": "slow@sandbox.test", "product_names": "digital"},
                                        start, end), site_url=site)
    assert found.invoice.number == str(server.book.all()[0]["bill_id"])
    down = expect({"customer_email": "down@sandbox.test", "product_names": "digital"}, start, end)
    assert find_invoice(client, down, site_url=site) == Finding()


def test_refresh_status_sees_a_payment(shop):
    made = shop.create("email-marketing-101")
    invoice = shop.find(made.expected).invoice
    assert requests.post(invoice.link, timeout=5).status_code == 200  # pays, then follows the 303

    paid = refresh_status(shop.client, made.number, site_url=shop.site)
    assert paid.paid and paid.pay_status == "paid"
    assert paid.sum_to_pay == Decimal("0.00") and paid.order_sum == Decimal("3900.00")
    assert paid.number == made.number and paid.link == invoice.link and paid.created == invoice.created
    assert refresh_status(shop.client, 99999, site_url=shop.site) is None


def test_a_refused_signature_cannot_look_and_says_why(shop):
    wrong_login = make_client(shop.url, login="someone-else")
    with pytest.raises(Rejected) as caught:
        find_invoice(wrong_login, expect({"product_names": "digital"}, just_now()), site_url=shop.site)
    assert caught.value.code == 4
    reason = failure_reason(caught.value)
    assert "login and the API key" in reason and "API 1.0" in reason
    assert "error 4: Wrong hash" in reason


def test_a_lookup_that_times_out_cannot_look(make_sandbox):
    server = make_sandbox(latency=1.0)
    with pytest.raises(Unavailable) as caught:
        find_invoice(make_client(server.url, timeout=0.2), expect({"product_names": "digital"}, just_now()),
                     site_url=site_of(server.url))
    assert failure_reason(caught.value) == "JustClick did not answer within 0.2 s."


# --- the rules that make an invoice the attempt's own, against the stand-in -----------------------

def test_a_price_other_than_the_one_sent_is_not_the_attempts_invoice(shop):
    made = shop.create("digital", product_prices="500.00")  # the catalogue says 990.00
    start, end = made.window
    typed_other = expect({"product_names": "digital", "product_prices": "600.00"}, start, end)
    assert shop.find(typed_other) == Finding()
    catalogue = expect({"product_names": "digital"}, start, end, catalogue_prices=CATALOGUE)
    assert shop.find(catalogue) == Finding()
    # The price it was sent at (written either way), or no price known to compare: it is the one.
    for sent in ({"product_prices": "500"}, {}):
        found = shop.find(expect({"product_names": "digital", **sent}, start, end))
        assert found.invoice.number == made.number


def test_two_attempts_of_the_same_products_at_100_and_200_each_find_their_own(shop):
    cheap = shop.create("digital,copywriting-club", product_prices="100.00,100.00")
    dear = shop.create("digital,copywriting-club", product_prices="200.00,200.00")
    # Their windows overlap: the prices alone tell the invoices apart.
    window = (cheap.window[0], dear.window[1])
    for made in (cheap, dear):
        sent = {k: v for k, v in made.sent.items() if k != "customer_email"}
        assert shop.find(expect(sent, *window)).invoice.number == made.number
        assert shop.find(made.expected).invoice.number == made.number


def test_a_later_invoice_with_the_same_products_is_never_the_finding(shop):
    then = just_now().replace(microsecond=0) - timedelta(minutes=10)
    own = str(shop.book.add({"customer_email": EMAIL, "product_names": "digital"}, created_at=then))
    later = shop.create("digital").number  # another attempt's, made after this attempt's window
    sent = {"product_names": "digital"}
    assert shop.find(expect(sent, then, then + timedelta(seconds=2))).invoice.number == own
    # An attempt that made nothing: both invoices came after it; neither is attached.
    found = shop.find(expect(sent, then - timedelta(minutes=5), then - timedelta(minutes=4)))
    assert found.invoice is None
    assert [(c.invoice.number, c.timing) for c in found.candidates] == [(later, "outside"), (own, "outside")]


SAME = {"customer_first_name": "Maria", "customer_phone": "+7 (916) 123-45-67", "note": "Call after 6 pm",
        "coupon": "585", "utm_source": "telegram", "order_tag": "spring"}


@pytest.mark.parametrize("field, other", [
    ("customer_first_name", "Marina"),
    ("customer_phone", "+7 916 123-45-68"),
    ("note", "Call before noon"),
    ("coupon", "586"),
    ("utm_source", "vk"),
    ("order_tag", "autumn"),
])
def test_a_sent_field_that_differs_excludes_the_invoice(shop, field, other):
    made = shop.create("digital", **SAME)
    found = shop.find(expect({"product_names": "digital", **SAME, field: other}, *made.window,
                             coupon_codes=COUPONS))
    assert found == Finding()
    # The same values as JustClick writes them back: the phone's digits, a name's case and spacing.
    same = {**SAME, "customer_first_name": " maria ", "customer_phone": "79161234567"}
    found = shop.find(expect({"product_names": "digital", **same}, *made.window, coupon_codes=COUPONS))
    assert found.invoice.number == made.number


def test_a_local_created_time_is_only_a_candidate_without_the_accounts_zone(make_sandbox):
    shop = _shop(server := make_sandbox(created_zone="Europe/Moscow"), server.url)
    made = shop.create("digital")
    found = shop.find(made.expected)  # tz=None: "2025-03-01 12:00:00" could be any moment
    assert found.invoice is None
    assert [(c.invoice.number, c.timing) for c in found.candidates] == [(made.number, "unknown")]
    placed = shop.find(made.expected, tz="Europe/Moscow").invoice
    assert placed.number == made.number
    assert made.window[0] - timedelta(seconds=1) <= placed.created <= made.window[1] + timedelta(seconds=1)
    # Read in the wrong zone, it lies three hours off the window: not attached either.
    wrong = shop.find(made.expected, tz="UTC")
    assert wrong.invoice is None and [c.timing for c in wrong.candidates] == ["outside"]


@pytest.mark.parametrize("skew", [-150, 150])
def test_a_justclick_clock_off_by_150_seconds_still_finds_the_attempts_own(make_sandbox, skew):
    server = make_sandbox(clock_skew=skew)
    # The stand-in's server writes its own Date before the stand-in's: the client takes the last.
    shop = _shop(server, server.url)
    before = str(server.book.add({"customer_email": EMAIL, "product_names": "digital"},
                                 created_at=just_now() - timedelta(minutes=5)))
    made = shop.create("digital")
    found = shop.find(made.expected)
    assert found.invoice.number == made.number
    assert found.invoice.number != before
    assert abs(shop.client.clock_offset - skew) <= 1.5  # from the Date header of each reply
    # On JustClick's clock the invoice lies outside the window as the desk counted it.
    start, end = made.window
    assert not start - CLOCK_SLACK <= found.invoice.created <= end + CLOCK_SLACK


def test_an_excluded_invoice_is_never_the_finding(shop):
    made = shop.create("digital")
    assert shop.find(made.expected).invoice.number == made.number
    assert shop.find(made.expected, exclude={made.number}) == Finding()
    assert shop.find(made.expected, exclude={int(made.number)}) == Finding()


# --- replies the stand-in does not give ----------------------------------------------------------

SENT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SITE = "https://testshop.justclick.io"
CONSULT = {"product_names": "consult"}


def envelope(result=None, code=0, text="OK"):
    """A reply signed as JustClick signs it, with the account's key."""
    return {"error_code": code, "error_text": text, "result": [] if result is None else result,
            "hash": reply_hash(code, text)}


def goods(*names):
    return {str(75000 + i): {"good_name": n, "good_title": n.title()} for i, n in enumerate(names)}


def details(lines=(("consult", "990.00"),), **fields):
    """getOrderDetails of an invoice of `lines` (name, price; ids as goods() gives them), made just
    after SENT."""
    total = f"{sum(Decimal(p) for _, p in lines):.2f}"
    items = [{"id": str(75000 + i), "title": n.title(), "sum": p, "price": p, "partners": []}
             for i, (n, p) in enumerate(lines)]
    return {"id": "1", "created": int(SENT.timestamp()) + 5, "pay_status": "waiting",
            "link": "/bill/1/abc", "price": total, "bill_sum_topay": total, "items": items, **fields}


def fake_justclick(httpserver, bills, orders):
    """GetBills answers `bills` (None: code 400); getOrderDetails answers orders[bill_id] or code 400."""
    not_found = envelope(code=400, text="Order not found")
    httpserver.expect_request("/api/GetBills", method="POST").respond_with_json(
        not_found if bills is None else envelope(bills))

    def order_details(request):
        found = orders.get(request.form["bill_id"])
        return Response(json.dumps(not_found if found is None else envelope(found)),
                        content_type="application/json")

    httpserver.expect_request("/api/getOrderDetails", method="POST").respond_with_handler(order_details)
    return make_client(httpserver.url_for("/api/"))


def detail_calls(httpserver):
    return [r.form["bill_id"] for r, _ in httpserver.log if r.path.endswith("/getOrderDetails")]


def timings(found: Finding) -> list[tuple[str, str]]:
    return [(c.invoice.number, c.timing) for c in found.candidates]


@pytest.mark.parametrize("created, tz, timing", [
    (int(SENT.timestamp()), None, "inside"),
    (str(int(SENT.timestamp())), None, "inside"),
    (f"{SENT.timestamp():.0f}.5", None, "inside"),
    ("2025-03-01 12:00:00", "Europe/Moscow", "inside"),  # 09:00 UTC
    ("2025-03-01 11:59:05", "Europe/Moscow", "inside"),  # 08:59:05 UTC: within the clock slack
    ("2025-03-01 11:58:50", "Europe/Moscow", "outside"),  # 08:58:50 UTC: made before the window
    ("2025-03-01 12:02:00", "Europe/Moscow", "outside"),  # 09:02 UTC: made after it
    ("2025-03-01 09:00:00", None, "unknown"),  # a local time, and the account's zone not known
    (int((SENT - timedelta(minutes=3)).timestamp()), None, "outside"),
])
def test_created_in_each_form(httpserver, created, tz, timing):
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": details(created=created)})
    found = find_invoice(client, expect(CONSULT, SENT), site_url=SITE, tz=tz)
    if timing == "inside":
        assert found.candidates == () and found.invoice.number == "10401"
        assert found.invoice.created.tzinfo is not None
        assert abs(found.invoice.created - SENT) <= CLOCK_SLACK
    else:
        assert found.invoice is None and timings(found) == [("10401", timing)]


def test_a_local_created_time_is_read_in_the_accounts_zone(httpserver):
    client = fake_justclick(httpserver, None, {"7": details(created="2025-03-01 12:00:00")})
    assert refresh_status(client, 7, site_url=SITE, tz="Europe/Moscow").created == SENT
    assert refresh_status(client, 7, site_url=SITE).created == SENT + timedelta(hours=3)


def test_an_invoice_whose_time_cannot_be_placed_keeps_another_from_being_attached(httpserver):
    client = fake_justclick(httpserver, {"10401": goods("consult"), "10402": goods("consult")},
                            {"10401": details(), "10402": details(created="2025-03-01 09:00:05")})
    found = find_invoice(client, expect(CONSULT, SENT), site_url=SITE)
    assert found.invoice is None
    assert timings(found) == [("10401", "inside"), ("10402", "unknown")]


def test_a_field_the_invoice_does_not_report_is_not_held_against_it(httpserver):
    order = details(utm={"medium": "cpc"})  # no names, phone, comment, tag, kupon; utm without source
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": order})
    sent = {**CONSULT, "customer_first_name": "Maria", "customer_last_name": "Ivanova",
            "customer_phone": "+79161234567", "note": "Call after 6 pm", "order_tag": "spring",
            "coupon": "585", "utm_source": "telegram", "utm_medium": "CPC"}
    found = find_invoice(client, expect(sent, SENT, coupon_codes=COUPONS), site_url=SITE)
    assert found.invoice.number == "10401"


@pytest.mark.parametrize("kupon", ["585", "coupon50proc"])
def test_a_coupon_is_recognised_by_its_id_or_its_code(httpserver, kupon):
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": details(kupon=kupon)})
    sent = {**CONSULT, "coupon": "585"}
    found = find_invoice(client, expect(sent, SENT, coupon_codes=COUPONS), site_url=SITE)
    assert found.invoice.number == "10401"
    other = {**CONSULT, "coupon": "586"}
    assert find_invoice(client, expect(other, SENT, coupon_codes=COUPONS), site_url=SITE) == Finding()


@pytest.mark.parametrize("items", [None, "consult", [["consult", "990.00"]], []])
def test_an_invoice_whose_items_cannot_be_compared_is_not_the_attempts(httpserver, items):
    order = {k: v for k, v in details(items=items).items() if v is not None}
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": order})
    assert find_invoice(client, expect(CONSULT, SENT), site_url=SITE) == Finding()


def test_a_candidate_says_who_and_what_it_is(httpserver):
    order = details(first_name="Maria", last_name="Ivanova", email=EMAIL)
    client = fake_justclick(httpserver, {"10401": goods("consult"), "10402": goods("consult")},
                            {"10401": order, "10402": order})
    found = find_invoice(client, expect(CONSULT, SENT), site_url=SITE)
    assert [c.customer for c in found.candidates] == [f"Ivanova Maria <{EMAIL}>"] * 2
    assert [c.titles for c in found.candidates] == [("Consult",)] * 2


@pytest.mark.parametrize("link, domain, site, expected", [
    ("/bill/10401/f00d", None, SITE, f"{SITE}/bill/10401/f00d"),
    ("/bill/10401/f00d", "", SITE, f"{SITE}/bill/10401/f00d"),
    ("bill/10401/f00d", None, SITE + "/", f"{SITE}/bill/10401/f00d"),
    ("/bill/10401/f00d", "pay.example.com", SITE, "https://pay.example.com/bill/10401/f00d"),
    ("/bill/10401/f00d", "http://pay.example.com/", SITE, "http://pay.example.com/bill/10401/f00d"),
    ("https://school.example.org/bill/10401/f00d", "pay.example.com", SITE,
     "https://school.example.org/bill/10401/f00d"),
    ("//school.example.org/bill/1", None, SITE, "https://school.example.org/bill/1"),
    # A stand-in mounted under a path: the path is kept.
    ("/bill/10401/f00d", None, "http://desk.local/sandbox", "http://desk.local/sandbox/bill/10401/f00d"),
    ("", None, SITE, None),
    (None, None, SITE, None),
])
def test_payment_links_are_made_absolute(httpserver, link, domain, site, expected):
    order = {k: v for k, v in details(link=link, domain=domain).items() if v is not None}
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": order})
    invoice = find_invoice(client, expect(CONSULT, SENT), site_url=site,
                           link_hosts=("pay.example.com", ".example.org")).invoice
    assert invoice.link == expected and invoice.link_refused is None and invoice.link_refusal is None


SHOP = "https://shop.example.net"  # an account on its own domain: its API URL's host


@pytest.mark.parametrize("link, domain, kept", [
    ("/bill/1/f00d", None, f"{SHOP}/bill/1/f00d"),  # the API URL's host
    (f"{SHOP}:8443/bill/1/f00d", None, f"{SHOP}:8443/bill/1/f00d"),
    ("https://shop.example.net./bill/1", None, "https://shop.example.net./bill/1"),
    ("https://testshop.justclick.ru/bill/1/f00d", None, "https://testshop.justclick.ru/bill/1/f00d"),
    ("/bill/1/f00d", "testshop.justclick.io", "https://testshop.justclick.io/bill/1/f00d"),
    ("https://JustClick.ru/bill/1", None, "https://JustClick.ru/bill/1"),
    ("https://pay.partner.example/bill/1", None, "https://pay.partner.example/bill/1"),  # configured
    ("/bill/1", "a.b.school.example", "https://a.b.school.example/bill/1"),  # configured with subdomains
    ("/bill/1", "school.example", "https://school.example/bill/1"),
])
def test_payment_links_on_the_accounts_own_hosts_are_kept(httpserver, link, domain, kept):
    order = {k: v for k, v in details(link=link, domain=domain).items() if v is not None}
    client = fake_justclick(httpserver, None, {"1": order})
    invoice = refresh_status(client, 1, site_url=SHOP, link_hosts=("pay.partner.example", ".school.example"))
    assert invoice.link == kept and invoice.link_refused is None


@pytest.mark.parametrize("link, domain, refused", [
    ("https://evil.example/bill/1/f00d", None, "evil.example"),
    ("/bill/1/f00d", "evil.example", "evil.example"),
    ("/bill/1/f00d", "https://evil.example/", "evil.example"),
    ("//evil.example/bill/1", None, "evil.example"),
    ("http://Evil.Example:8080/bill/1", None, "evil.example"),
    ("https://testshop.justclick.io.evil.example/bill/1", None, "testshop.justclick.io.evil.example"),
    ("https://notjustclick.ru/bill/1", None, "notjustclick.ru"),
    ("https://partner.example/bill/1", None, "partner.example"),  # pay.partner.example is, not its parent
    ("https://evil.example.net/bill/1", None, "evil.example.net"),  # shop.example.net's sibling
    ("https://пример.рф/bill/1", None, "xn--e1afmkfd.xn--p1ai"),
    ("javascript:alert(1)", None, "javascript:"),
    ("JavaScript:alert(document.cookie)//https://shop.example.net", None, "javascript:"),
    ("data:text/html,<script>alert(1)</script>", None, "data:"),
    # Links a browser reads otherwise than a parser might: never shown.
    ("https://shop.example.net@evil.example/bill/1", None, ""),
    ("https://evil.example\\@shop.example.net/bill/1", None, ""),
    ("https://evil.example\\.shop.example.net/bill/1", None, ""),
    ("https://evil.example%2f.justclick.ru/bill/1", None, ""),
    ("https://shop.example.net:port/bill/1", None, ""),
    ("https:///bill/1", None, ""),
])
def test_payment_links_on_any_other_host_are_refused_and_the_reason_kept(httpserver, link, domain, refused):
    order = {k: v for k, v in details(link=link, domain=domain).items() if v is not None}
    client = fake_justclick(httpserver, None, {"1": order})
    invoice = refresh_status(client, 1, site_url=SHOP, link_hosts=("pay.partner.example", ".school.example"))
    assert invoice.link is None and invoice.link_refused == refused
    if refused.endswith(":") or not refused:
        assert "not a web address of the account's site" in invoice.link_refusal
    else:
        assert invoice.link_refusal == (f"JustClick gave a payment link on another site ({refused}), so the "
                                        "desk does not show it: open the invoice in JustClick.")
    assert Invoice.from_dict(json.loads(json.dumps(invoice.to_dict()))) == invoice


def test_an_invoice_listed_but_not_yet_readable_is_skipped(httpserver):
    client = fake_justclick(httpserver, {"10401": goods("consult"), "10402": goods("consult")},
                            {"10401": details()})
    assert find_invoice(client, expect(CONSULT, SENT), site_url=SITE).invoice.number == "10401"
    assert detail_calls(httpserver) == ["10402", "10401"]


def test_at_most_four_detail_calls_per_lookup_newest_first(httpserver):
    bills = {str(n): goods("consult") for n in (10401, 10402, 10399, 10405, 10403, 10404)}
    bills["10406"] = goods("other")
    client = fake_justclick(httpserver, bills, {})  # none readable: code 400 every time
    assert find_invoice(client, expect(CONSULT, SENT), site_url=SITE) == Finding()
    assert detail_calls(httpserver) == ["10405", "10404", "10403", "10402"]
    assert MAX_DETAIL_CALLS == 4


def test_an_invoice_older_than_the_window_ends_the_lookup(httpserver):
    old = details(created=int((SENT - timedelta(hours=1)).timestamp()))
    client = fake_justclick(httpserver, {"10401": goods("consult"), "10402": goods("consult")},
                            {"10401": details(), "10402": old})
    found = find_invoice(client, expect(CONSULT, SENT), site_url=SITE)
    assert found.invoice is None and timings(found) == [("10402", "outside")]
    assert detail_calls(httpserver) == ["10402"]  # numbers go up with time: 10401 is older still


def test_products_as_a_php_list_match_too(httpserver):
    client = fake_justclick(httpserver, {"10401": list(goods("consult", "book").values())},
                            {"10401": details((("consult", "990.00"), ("book", "500.00")))})
    sent = {"product_names": "book,consult"}
    assert find_invoice(client, expect(sent, SENT), site_url=SITE).invoice.number == "10401"


def test_a_skewed_date_header_from_a_development_server_still_gives_the_clock(httpserver):
    behind = datetime.now(UTC) - timedelta(seconds=150)
    httpserver.expect_request("/api/GetBills").respond_with_json(
        envelope({"10401": goods("consult")}), headers={"Date": behind.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    client = make_client(httpserver.url_for("/api/"))
    client.get_bills(EMAIL)
    assert client.clock_offset is not None and abs(client.clock_offset + 150) <= 1.5


def test_the_signed_lookups_on_the_wire(httpserver):
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": details()})
    find_invoice(client, expect({**CONSULT, "customer_email": "a b+c@example.com"}, SENT), site_url=SITE)
    bills, order = (r.get_data(as_text=True) for r, _ in httpserver.log)
    # Each body is signed as PHP's http_build_query writes it, with the hash last.
    assert bills.startswith("email=a+b%2Bc%40example.com&hash=")
    assert bills.endswith(client.sign("email=a+b%2Bc%40example.com"))
    assert order == f"bill_id=10401&good_info=1&hash={client.sign('bill_id=10401&good_info=1')}"
    assert API_KEY not in bills + order


@pytest.mark.parametrize("bills, orders", [
    ("nonsense", {}),
    ({"10401": "consult"}, {}),
    ({"10401": {"12": {"good_title": "no slug"}}}, {}),
    ({"not-a-number": goods("consult")}, {}),
    ({"10401": goods("consult")}, {"10401": details(created="yesterday")}),
    ({"10401": goods("consult")}, {"10401": details(created="0000-00-00 00:00:00")}),
    ({"10401": goods("consult")}, {"10401": details(created=None)}),
    ({"10401": goods("consult")}, {"10401": details(created=True)}),
    ({"10401": goods("consult")}, {"10401": details(price="free")}),
    ({"10401": goods("consult")}, {"10401": details(bill_sum_topay="NaN")}),
    ({"10401": goods("consult")}, {"10401": ["not", "an", "order"]}),
])
def test_garbage_cannot_look(httpserver, bills, orders):
    client = fake_justclick(httpserver, bills, orders)
    with pytest.raises(BadResponse) as caught:
        find_invoice(client, expect(CONSULT, SENT), site_url=SITE)
    assert "JustClick" in failure_reason(caught.value)


def unsigned(reply, how):
    """`reply` with its hash zeroed, gone, signed with another key, or in capitals."""
    if how == "missing":
        return {k: v for k, v in reply.items() if k != "hash"}
    forged = {"zeroed": "0" * 32, "other key": reply_hash(reply["error_code"], reply["error_text"], "other"),
              "another text": reply_hash(reply["error_code"], "ok")}[how]
    return {**reply, "hash": forged}


@pytest.mark.parametrize("how", ["zeroed", "missing", "other key", "another text"])
@pytest.mark.parametrize("method", ["GetBills", "getOrderDetails"])
def test_a_success_reply_whose_hash_does_not_verify_cannot_look(httpserver, caplog, method, how):
    bills = envelope({"10401": goods("consult")})
    order = envelope(details())
    if method == "GetBills":
        bills = unsigned(bills, how)
    else:
        order = unsigned(order, how)
    httpserver.expect_request("/api/GetBills").respond_with_json(bills)
    httpserver.expect_request("/api/getOrderDetails").respond_with_json(order)
    caplog.set_level(logging.INFO)
    with pytest.raises(BadResponse) as caught:
        find_invoice(make_client(httpserver.url_for("/api/")), expect(CONSULT, SENT), site_url=SITE)
    assert failure_reason(caught.value).startswith("JustClick's reply could not be verified")
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert method in warning.getMessage()
    assert API_KEY not in caplog.text and "consult" not in caplog.text and "/bill/" not in caplog.text


def test_a_reply_hash_in_capitals_and_a_cyrillic_text_verify(httpserver):
    text = "Заказ найден"
    bills = {**envelope({"10401": goods("consult")}, text=text)}
    bills["hash"] = bills["hash"].upper()
    httpserver.expect_request("/api/GetBills").respond_with_json(bills)
    httpserver.expect_request("/api/getOrderDetails").respond_with_json(envelope(details(), text="ok"))
    client = make_client(httpserver.url_for("/api/"))
    assert find_invoice(client, expect(CONSULT, SENT), site_url=SITE).invoice.number == "10401"


def test_a_refusal_with_a_wrong_hash_still_says_its_code(httpserver):
    """A refusal is not acted on beyond "could not look", so its code is shown whatever its hash."""
    httpserver.expect_request("/api/GetBills").respond_with_json(
        unsigned(envelope(code=8, text="Limit"), "zeroed"))
    with pytest.raises(Rejected) as caught:
        find_invoice(make_client(httpserver.url_for("/api/")), expect(CONSULT, SENT), site_url=SITE)
    assert caught.value.code == 8


def test_an_html_page_cannot_look(httpserver):
    httpserver.expect_request("/api/GetBills").respond_with_data(
        "<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html")
    with pytest.raises(BadResponse) as caught:
        find_invoice(make_client(httpserver.url_for("/api/")), expect(CONSULT, SENT), site_url=SITE)
    assert failure_reason(caught.value) == "JustClick answered HTTP 502 with an HTML page."


@pytest.mark.parametrize("code, words", [
    (1, "no signature"), (2, "enable API 1.0"), (4, "login and the API key"), (5, "account login"),
    (6, "this server's address"), (8, "yet to enable API 1.0"),
])
@pytest.mark.parametrize("method", ["GetBills", "getOrderDetails"])
def test_refusals_cannot_look_and_say_why(httpserver, method, code, words):
    refusal = envelope(code=code, text=f"Refused {code}")
    if method == "GetBills":
        httpserver.expect_request("/api/GetBills").respond_with_json(refusal)
    else:
        httpserver.expect_request("/api/GetBills").respond_with_json(envelope({"10401": goods("consult")}))
        httpserver.expect_request("/api/getOrderDetails").respond_with_json(refusal)
    with pytest.raises(Rejected) as caught:
        find_invoice(make_client(httpserver.url_for("/api/")), expect(CONSULT, SENT), site_url=SITE)
    reason = failure_reason(caught.value)
    assert words in reason and f"error {code}: Refused {code}" in reason


def test_an_undocumented_refusal_is_shown_verbatim(httpserver):
    httpserver.expect_request("/api/getOrderDetails").respond_with_json(envelope(code=777, text="Nope"))
    with pytest.raises(Rejected) as caught:
        refresh_status(make_client(httpserver.url_for("/api/")), 1, site_url=SITE)
    assert failure_reason(caught.value) == "JustClick answered error 777: Nope"


def test_an_invoice_keeps_in_a_history_entry():
    invoice = Invoice(number="10401", sum_to_pay=Decimal("0.00"), order_sum=Decimal("14900.00"),
                      pay_status="paid", link=f"{SITE}/bill/10401/f00d", created=SENT)
    kept = json.loads(json.dumps(invoice.to_dict()))
    assert kept["sum_to_pay"] == "0.00" and kept["order_sum"] == "14900.00"
    assert Invoice.from_dict(kept) == invoice
    missing = Invoice("1", None, None, "", None, SENT)
    assert Invoice.from_dict(json.loads(json.dumps(missing.to_dict()))) == missing
    refused = Invoice("1", None, None, "", None, SENT, link_refused="evil.example")
    assert Invoice.from_dict(json.loads(json.dumps(refused.to_dict()))) == refused
    # Kept before payment links were checked: nothing refused.
    before = {k: v for k, v in invoice.to_dict().items() if k != "link_refused"}
    assert Invoice.from_dict(before) == invoice and invoice.link_refused is None


def test_site_of_is_the_api_urls_scheme_and_host():
    assert site_of("https://testshop.justclick.ru/api/") == "https://testshop.justclick.ru"
    assert site_of("http://127.0.0.1:8001/api/") == "http://127.0.0.1:8001"


def test_a_window_without_a_zone_is_refused_before_any_call(httpserver):
    with pytest.raises(ValueError, match="timezone-aware"):
        find_invoice(make_client(httpserver.url_for("/api/")), expect(CONSULT, datetime(2025, 3, 1)),
                     site_url=SITE)
    assert httpserver.log == []
