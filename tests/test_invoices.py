"""Finding the invoice an order made: against the stand-in over real HTTP, and pytest-httpserver for
the replies the stand-in never gives (other `created` forms, domains, garbage, refusals)."""

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from werkzeug.wrappers import Response

from tests.conftest import API_KEY, LOGIN, reply_hash
from webapp.invoices import (
    MAX_DETAIL_CALLS,
    Invoice,
    failure_reason,
    find_invoice,
    refresh_status,
    site_of,
)
from webapp.justclick import BadResponse, JustClickClient, Rejected, Unavailable

EMAIL = "maria@example.com"


def make_client(url, login=LOGIN, timeout=2.0):
    return JustClickClient(url, API_KEY, login=login, timeout=timeout, connect_timeout=timeout)


@pytest.fixture
def shop(sandbox_server):
    """The stand-in, a client for it, and a way to create orders there."""
    client = make_client(sandbox_server.url)

    def create(products, email=EMAIL, **fields):
        client.create_order({"customer_email": email, "product_names": products, **fields})
        return str(sandbox_server.book.all()[0]["bill_id"])

    sandbox_server.client, sandbox_server.create = client, create
    sandbox_server.site = site_of(sandbox_server.url)
    return sandbox_server


def just_now():
    return datetime.now(UTC).replace(microsecond=0)


# --- against the stand-in ------------------------------------------------------------------------

def test_the_invoice_just_made_is_found_with_its_sums_status_and_working_link(shop):
    sent_at = just_now()
    number = shop.create("digital,sales-in-messengers", product_prices="500.00")

    invoice = find_invoice(shop.client, EMAIL, ["digital", "sales-in-messengers"], sent_at,
                           site_url=shop.site)
    assert invoice.number == number
    assert invoice.order_sum == invoice.sum_to_pay == Decimal("15400.00")  # 500 sent + 14900 catalogue
    assert invoice.pay_status == "waiting" and not invoice.paid
    assert invoice.link.startswith(f"{shop.root}bill/{number}/")
    assert sent_at - timedelta(seconds=1) <= invoice.created <= just_now() + timedelta(seconds=1)
    page = requests.get(invoice.link, timeout=5)
    assert page.status_code == 200 and "15400.00" in page.text


def test_of_two_invoices_for_one_email_the_newest_is_found(shop):
    sent_at = just_now()
    first = shop.create("digital")
    second = shop.create("digital")
    assert int(second) > int(first)
    assert find_invoice(shop.client, EMAIL, ["digital"], sent_at, site_url=shop.site).number == second
    # An invoice another attempt already claimed is passed over.
    found = find_invoice(shop.client, EMAIL, ["digital"], sent_at, site_url=shop.site, exclude={second})
    assert found.number == first


def test_the_same_products_in_another_order_match(shop):
    sent_at = just_now()
    number = shop.create("sales-in-messengers,digital")
    found = find_invoice(shop.client, EMAIL, ["digital", "sales-in-messengers"], sent_at, site_url=shop.site)
    assert found.number == number


@pytest.mark.parametrize("sent", [["digital"], ["digital", "copywriting-club", "mentor-session"],
                                  ["digital", "mentor-session"]])
def test_different_products_do_not_match(shop, sent):
    sent_at = just_now()
    shop.create("digital,copywriting-club")
    shop.create(",".join(sent), email="someone.else@example.com")  # the right products, another email
    assert find_invoice(shop.client, EMAIL, sent, sent_at, site_url=shop.site) is None


def test_an_invoice_older_than_the_send_is_not_taken_but_clock_slack_is_allowed(shop):
    number = shop.create("digital")
    later = just_now() + timedelta(minutes=3)
    assert find_invoice(shop.client, EMAIL, ["digital"], later, site_url=shop.site) is None
    slightly_later = just_now() + timedelta(minutes=1)  # within two minutes of clock difference
    assert find_invoice(shop.client, EMAIL, ["digital"], slightly_later, site_url=shop.site).number == number


def test_an_email_without_invoices_is_not_listed(shop):
    found = find_invoice(shop.client, "nobody@example.com", ["digital"], just_now(), site_url=shop.site)
    assert found is None


def test_slow_made_the_order_and_is_found_down_made_none(make_sandbox):
    server = make_sandbox(slow_seconds=1.0)
    client = make_client(server.url, timeout=0.3)
    sent_at = just_now()
    for local in ("slow", "down"):
        with pytest.raises(Unavailable if local == "slow" else BadResponse):
            client.create_order({"customer_email": f"{local}@sandbox.test", "product_names": "digital"})
    site = site_of(server.url)
    found = find_invoice(client, "slow@sandbox.test", ["digital"], sent_at, site_url=site)
    assert found.number == str(server.book.all()[0]["bill_id"])
    assert find_invoice(client, "down@sandbox.test", ["digital"], sent_at, site_url=site) is None


def test_refresh_status_sees_a_payment(shop):
    sent_at = just_now()
    number = shop.create("email-marketing-101")
    invoice = find_invoice(shop.client, EMAIL, ["email-marketing-101"], sent_at, site_url=shop.site)
    assert requests.post(invoice.link, timeout=5).status_code == 200  # pays, then follows the 303

    paid = refresh_status(shop.client, number, site_url=shop.site)
    assert paid.paid and paid.pay_status == "paid"
    assert paid.sum_to_pay == Decimal("0.00") and paid.order_sum == Decimal("3900.00")
    assert paid.number == number and paid.link == invoice.link and paid.created == invoice.created
    assert refresh_status(shop.client, 99999, site_url=shop.site) is None


def test_a_refused_signature_cannot_look_and_says_why(shop):
    wrong_login = make_client(shop.url, login="someone-else")
    with pytest.raises(Rejected) as caught:
        find_invoice(wrong_login, EMAIL, ["digital"], just_now(), site_url=shop.site)
    assert caught.value.code == 4
    reason = failure_reason(caught.value)
    assert "JUSTCLICK_USERNAME" in reason and "API 1.0" in reason
    assert "error 4: Wrong hash" in reason


def test_a_lookup_that_times_out_cannot_look(make_sandbox):
    server = make_sandbox(latency=1.0)
    with pytest.raises(Unavailable) as caught:
        find_invoice(make_client(server.url, timeout=0.2), EMAIL, ["digital"], just_now(),
                     site_url=site_of(server.url))
    assert failure_reason(caught.value) == "JustClick did not answer within 0.2 s."


# --- replies the stand-in does not give ----------------------------------------------------------

SENT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SITE = "https://testshop.justclick.io"


def envelope(result=None, code=0, text="OK"):
    """A reply signed as JustClick signs it, with the account's key."""
    return {"error_code": code, "error_text": text, "result": [] if result is None else result,
            "hash": reply_hash(code, text)}


def details(**fields):
    return {"id": "1", "created": int(SENT.timestamp()) + 5, "pay_status": "waiting",
            "link": "/bill/1/abc", "price": "990.00", "bill_sum_topay": "990.00", **fields}


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


def goods(*names):
    return {str(75000 + i): {"good_name": n, "good_title": n.title()} for i, n in enumerate(names)}


@pytest.mark.parametrize("created, tz, found", [
    (int(SENT.timestamp()), None, True),
    (str(int(SENT.timestamp())), None, True),
    (f"{SENT.timestamp():.0f}.5", None, True),
    ("2025-03-01 12:00:00", "Europe/Moscow", True),  # 09:00 UTC
    ("2025-03-01 11:58:30", "Europe/Moscow", True),  # 08:58:30 UTC: within the clock slack
    ("2025-03-01 11:57:00", "Europe/Moscow", False),  # 08:57 UTC: made before the send
    ("2025-03-01 09:00:00", None, True),  # no zone given: UTC
    (int((SENT - timedelta(minutes=3)).timestamp()), None, False),
])
def test_created_in_each_form(httpserver, created, tz, found):
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": details(created=created)})
    invoice = find_invoice(client, EMAIL, ["consult"], SENT, site_url=SITE, tz=tz)
    assert (invoice is not None) == found
    if found:
        assert invoice.created.tzinfo is not None
        assert abs(invoice.created - SENT) <= timedelta(minutes=3)


def test_a_local_created_time_is_read_in_the_accounts_zone(httpserver):
    client = fake_justclick(httpserver, None, {"7": details(created="2025-03-01 12:00:00")})
    assert refresh_status(client, 7, site_url=SITE, tz="Europe/Moscow").created == SENT
    assert refresh_status(client, 7, site_url=SITE).created == SENT + timedelta(hours=3)


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
    invoice = find_invoice(client, EMAIL, ["consult"], SENT, site_url=site,
                           link_hosts=("pay.example.com", ".example.org"))
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
    assert find_invoice(client, EMAIL, ["consult"], SENT, site_url=SITE).number == "10401"
    assert detail_calls(httpserver) == ["10402", "10401"]


def test_at_most_three_detail_calls_per_lookup_newest_first(httpserver):
    bills = {str(n): goods("consult") for n in (10401, 10402, 10399, 10405, 10403, 10404)}
    bills["10406"] = goods("other")
    client = fake_justclick(httpserver, bills, {})  # none readable: code 400 every time
    assert find_invoice(client, EMAIL, ["consult"], SENT, site_url=SITE) is None
    assert detail_calls(httpserver) == ["10405", "10404", "10403"]
    assert MAX_DETAIL_CALLS == 3


def test_an_older_newest_match_ends_the_lookup(httpserver):
    old = details(created=int((SENT - timedelta(hours=1)).timestamp()))
    client = fake_justclick(httpserver, {"10401": goods("consult"), "10402": goods("consult")},
                            {"10401": old, "10402": old})
    assert find_invoice(client, EMAIL, ["consult"], SENT, site_url=SITE) is None
    assert detail_calls(httpserver) == ["10402"]  # numbers go up with time: 10401 is older still


def test_products_as_a_php_list_match_too(httpserver):
    client = fake_justclick(httpserver, {"10401": list(goods("consult", "book").values())},
                            {"10401": details()})
    assert find_invoice(client, EMAIL, ["book", "consult"], SENT, site_url=SITE).number == "10401"


def test_the_signed_lookups_on_the_wire(httpserver):
    client = fake_justclick(httpserver, {"10401": goods("consult")}, {"10401": details()})
    find_invoice(client, "a b+c@example.com", ["consult"], SENT, site_url=SITE)
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
        find_invoice(client, EMAIL, ["consult"], SENT, site_url=SITE)
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
        find_invoice(make_client(httpserver.url_for("/api/")), EMAIL, ["consult"], SENT, site_url=SITE)
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
    assert find_invoice(client, EMAIL, ["consult"], SENT, site_url=SITE).number == "10401"


def test_a_refusal_with_a_wrong_hash_still_says_its_code(httpserver):
    """A refusal is not acted on beyond "could not look", so its code is shown whatever its hash."""
    httpserver.expect_request("/api/GetBills").respond_with_json(
        unsigned(envelope(code=8, text="Limit"), "zeroed"))
    with pytest.raises(Rejected) as caught:
        find_invoice(make_client(httpserver.url_for("/api/")), EMAIL, ["consult"], SENT, site_url=SITE)
    assert caught.value.code == 8


def test_an_html_page_cannot_look(httpserver):
    httpserver.expect_request("/api/GetBills").respond_with_data(
        "<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html")
    with pytest.raises(BadResponse) as caught:
        find_invoice(make_client(httpserver.url_for("/api/")), EMAIL, ["consult"], SENT, site_url=SITE)
    assert failure_reason(caught.value) == "JustClick answered HTTP 502 with an HTML page."


@pytest.mark.parametrize("code, words", [
    (1, "no signature"), (2, "enable API 1.0"), (4, "JUSTCLICK_API_KEY"), (5, "JUSTCLICK_USERNAME"),
    (6, "IP address"), (8, "API 1.0 is not switched on"),
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
        find_invoice(make_client(httpserver.url_for("/api/")), EMAIL, ["consult"], SENT, site_url=SITE)
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


def test_a_send_time_without_a_zone_is_refused_before_any_call(httpserver):
    with pytest.raises(ValueError, match="timezone-aware"):
        find_invoice(make_client(httpserver.url_for("/api/")), EMAIL, ["consult"], datetime(2025, 3, 1),
                     site_url=SITE)
    assert httpserver.log == []
