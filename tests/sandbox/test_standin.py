import hashlib
import re
import sqlite3
import time
from types import SimpleNamespace

import pytest
import requests
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from tests.support import ROOT
from tests.support.desk import API_KEY, LOGIN, serve
from webapp.justclick.client import php_urlencode
from webapp.sandbox.standin import (
    MAGIC_EMAILS,
    SEED_COUPONS,
    SEED_GOODS,
    SEED_MANAGERS,
    OrderBook,
    WSGIAdapter,
    create_sandbox_app,
)

# Codes the contract documents; the "unknown" magic email must answer with none of them.
DOCUMENTED_CODES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 400, 600, 601, 602, 603, 604, 605, 700}
DIGITAL = next(g for g in SEED_GOODS if g["good_type"] == "digital")
PHYSICAL = next(g for g in SEED_GOODS if g["good_type"] == "physical")


def md5(text):
    return hashlib.md5(text.encode() if isinstance(text, str) else text).hexdigest()


def call(server, method, fields=None, key=API_KEY, **kwargs):
    data = dict(fields or {})
    if key is not None:
        data["rpsKey"] = key
    kwargs.setdefault("timeout", 5)
    return requests.post(server.url + method, data=data, allow_redirects=False, **kwargs)


def order(**overrides):
    fields = {"product_names": DIGITAL["good_name"], "customer_email": "buyer@example.com"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def assert_envelope(reply, code):
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    body = reply.json()
    assert body["error_code"] == code, body
    assert body["hash"] == md5(f"{body['error_code']}::{body['error_text']}::{API_KEY}")
    return body


# --- list methods and authentication ---------------------------------------------------------

def test_getgoods_has_ids_slugs_titles_and_no_price(sandbox_server):
    body = assert_envelope(call(sandbox_server, "getgoods"), 0)
    assert body["error_text"] == "OK"
    assert {"id": 75696, "good_name": "digital", "good_title": "Digital product"} in body["result"]
    assert len(body["result"]) == len(SEED_GOODS)
    for good in body["result"]:
        assert set(good) == {"id", "good_name", "good_title"}


def test_getgoods_keeps_cyrillic_as_utf8(sandbox_server):
    reply = call(sandbox_server, "getgoods")
    assert "Курс «Продажи в мессенджерах»".encode() in reply.content
    titles = [g["good_title"] for g in reply.json()["result"]]
    assert "Курс «Продажи в мессенджерах»" in titles


def test_getcoupons_shape(sandbox_server):
    body = assert_envelope(call(sandbox_server, "getcoupons"), 0)
    assert {"id": 585, "coupon": "coupon50proc"} in body["result"]
    assert len(body["result"]) == len(SEED_COUPONS) == 4
    assert all(set(c) == {"id", "coupon"} for c in body["result"])


def test_getpersonalmanagers_shape(sandbox_server):
    body = assert_envelope(call(sandbox_server, "getpersonalmanagers"), 0)
    assert {"id": 71257, "manager_id": 71257, "manager_name": "Greg"} in body["result"]
    assert len(body["result"]) == len(SEED_MANAGERS) == 3
    for manager in body["result"]:
        assert set(manager) == {"id", "manager_id", "manager_name"}
        assert manager["id"] == manager["manager_id"]


@pytest.mark.parametrize("method", ["getgoods", "getcoupons", "getpersonalmanagers", "createorder"])
@pytest.mark.parametrize("key", ["wrong-key", None, ""])
def test_wrong_or_missing_key_is_code_4(sandbox_server, method, key):
    body = assert_envelope(call(sandbox_server, method, order(), key=key), 4)
    assert body["result"] == []
    assert API_KEY not in body["error_text"]
    assert sandbox_server.book.all() == []


def test_unknown_method_is_code_2(sandbox_server):
    body = assert_envelope(call(sandbox_server, "deleteeverything"), 2)
    assert "deleteeverything" in body["error_text"]


def test_get_on_api_is_405(sandbox_server):
    assert requests.get(sandbox_server.url + "getgoods", timeout=5).status_code == 405


def test_reply_hash_follows_formula_for_success_and_error(sandbox_server):
    ok = call(sandbox_server, "getcoupons").json()
    assert ok["hash"] == md5(f"0::{ok['error_text']}::{API_KEY}")
    bad = call(sandbox_server, "createorder", order(product_names="")).json()
    assert bad["hash"] == md5(f"603::{bad['error_text']}::{API_KEY}")
    assert ok["hash"] != md5(f"0::{ok['error_text']}::other-key")


# --- createorder -------------------------------------------------------------------------------

def test_createorder_success_is_recorded_with_cyrillic_and_without_key(sandbox_server):
    fields = order(customer_first_name="Анна", note="Заказ «срочно»", product_prices="100.50")
    body = assert_envelope(call(sandbox_server, "createorder", fields), 0)
    assert body["result"] == []
    assert body["error_text"] == "OK"
    [recorded] = sandbox_server.book.all()
    assert recorded["params"] == fields
    assert "rpsKey" not in recorded["params"]
    assert recorded["params"]["customer_first_name"] == "Анна"
    assert recorded["created_at"].endswith("+00:00")


def test_bill_numbers_are_sequential_and_listed_newest_first(sandbox_server):
    call(sandbox_server, "createorder", order(customer_email="first@example.com"))
    call(sandbox_server, "createorder", order(customer_email="second@example.com"))
    orders = sandbox_server.book.all()
    assert [o["params"]["customer_email"] for o in orders] == [
        "second@example.com", "first@example.com"]
    assert orders[0]["bill_id"] == orders[1]["bill_id"] + 1


def test_createorder_accepts_every_documented_value(sandbox_server):
    fields = order(
        product_names=f"{DIGITAL['good_name']},{PHYSICAL['good_name']}",
        product_prices="0,12.5",
        coupon=str(SEED_COUPONS[0]["id"]),
        order_status="Paid",
        order_confirmed="Yes",
        order_created_at="2025-01-31 14:05:00",
        order_paid_at="31.01.2025 15:00:00",
        order_sales_manager=str(SEED_MANAGERS[1]["id"]),
        customer_shipping="1 Main St",
        customer_shipping_city="Berlin",
        customer_shipping_country_code="DE",
        customer_billing_country_code="RU",
    )
    assert_envelope(call(sandbox_server, "createorder", fields), 0)
    assert sandbox_server.book.all()[0]["params"] == fields


@pytest.mark.parametrize("fields, code, fragment", [
    (order(product_names=None), 603, ""),
    (order(product_names=" "), 603, ""),
    (order(product_names="no-such-course"), 604, "'no-such-course'"),
    (order(product_names="digital,ghost-a,ghost-b"), 604, "'ghost-b'"),
    (order(customer_email=None), 600, ""),
    (order(customer_email="not-an-email"), 600, ""),
    (order(customer_email="a b@example.com"), 600, ""),
    (order(customer_email="buyer@localhost"), 600, ""),
    (order(product_prices="10,20"), 3, "2 prices"),
    (order(product_prices="12,50"), 3, ""),
    (order(product_prices="-5"), 3, "-5"),
    (order(product_prices="1e3"), 3, "1e3"),
    (order(product_prices="abc"), 3, "abc"),
    (order(coupon="coupon50proc"), 3, "coupon"),
    (order(coupon="999999"), 3, "999999"),
    (order(order_status="paid"), 3, "order_status"),
    (order(order_confirmed="maybe"), 3, "order_confirmed"),
    (order(order_created_at="2025-01-31"), 3, "order_created_at"),
    (order(order_created_at="2025-13-01 10:00:00"), 3, "order_created_at"),
    (order(order_paid_at="2025-1-5 1:02:03"), 3, "order_paid_at"),
    (order(order_sales_manager="12345"), 3, "12345"),
    (order(order_sales_manager="Greg"), 3, "Greg"),
    (order(customer_shipping_country_code="de"), 3, "customer_shipping_country_code"),
    (order(customer_billing_country_code="DEU"), 3, "customer_billing_country_code"),
    (order(product_names=PHYSICAL["good_name"]), 605, PHYSICAL["good_name"]),
    (order(product_names=PHYSICAL["good_name"], customer_shipping="1 Main St"), 605,
     "customer_shipping_city"),
])
def test_createorder_rejects(sandbox_server, fields, code, fragment):
    body = assert_envelope(call(sandbox_server, "createorder", fields), code)
    assert body["error_text"].strip()
    assert fragment in body["error_text"]
    assert sandbox_server.book.all() == []


def test_createorder_names_every_unknown_product(sandbox_server):
    text = call(sandbox_server, "createorder", order(product_names="x1,digital,x2")).json()[
        "error_text"]
    assert "'x1'" in text and "'x2'" in text and "'digital'" not in text


@pytest.mark.parametrize("fields, code", [
    # Products are checked before the email, and the email before prices.
    (order(product_names="ghost", customer_email="nope"), 604),
    (order(customer_email="nope", product_prices="abc"), 600),
    (order(product_names="", customer_email="nope"), 603),
])
def test_createorder_check_order(sandbox_server, fields, code):
    assert_envelope(call(sandbox_server, "createorder", fields), code)


@pytest.mark.parametrize("dated", ["2025-01-31 14:05:00", "31.01.2025 14:05:00",
                                   "01/31/2025 14:05:00"])
def test_createorder_accepts_the_three_date_formats(sandbox_server, dated):
    assert_envelope(call(sandbox_server, "createorder", order(order_created_at=dated)), 0)


# --- magic emails ------------------------------------------------------------------------------

def expect_code(code, fragment=""):
    def check(server, email):
        body = assert_envelope(call(server, "createorder", order(customer_email=email)), code)
        assert fragment in body["error_text"].lower()
        assert server.book.all() == []
    return check


def check_slow(server, email):
    with pytest.raises(requests.exceptions.ReadTimeout):
        call(server, "createorder", order(customer_email=email), timeout=(2, 0.5))
    # The reply never came, yet the order exists: the 'may exist' case.
    assert [o["params"]["customer_email"] for o in server.book.all()] == [email]


def check_down(server, email):
    reply = call(server, "createorder", order(customer_email=email))
    assert reply.status_code == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    assert "<html" in reply.text.lower()
    assert server.book.all() == []


def check_broken(server, email):
    reply = call(server, "createorder", order(customer_email=email))
    assert reply.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        reply.json()
    assert len(server.book.all()) == 1


def check_redirect(server, email):
    reply = call(server, "createorder", order(customer_email=email))
    assert reply.status_code == 302
    assert "login" in reply.headers["Location"]
    assert server.book.all() == []


def check_unknown(server, email):
    body = call(server, "createorder", order(customer_email=email)).json()
    assert body["error_code"] not in DOCUMENTED_CODES
    assert body["error_text"].strip()
    assert body["hash"] == md5(f"{body['error_code']}::{body['error_text']}::{API_KEY}")
    assert server.book.all() == []


NAMED_OUTCOMES = {
    "limit": expect_code(8, "limit"),
    "slow": check_slow,
    "down": check_down,
    "broken": check_broken,
    "redirect": check_redirect,
    "unknown": check_unknown,
}


def outcome_for(email):
    local, domain = email.split("@")
    assert domain == "sandbox.test"
    if local.startswith("error-"):
        return expect_code(int(local.removeprefix("error-")))
    if local not in NAMED_OUTCOMES:
        pytest.fail(f"{email} has no test of its outcome")
    return NAMED_OUTCOMES[local]


@pytest.mark.parametrize("email", sorted(MAGIC_EMAILS))
def test_magic_email(sandbox_server, email):
    assert MAGIC_EMAILS[email].strip()
    outcome_for(email)(sandbox_server, email)


def test_magic_emails_cover_the_createorder_codes():
    codes = {int(e.split("@")[0].removeprefix("error-")) for e in MAGIC_EMAILS
             if e.startswith("error-")}
    assert codes == {2, 3, 4, 5, 6, 7, 8, 600, 601, 602, 603, 604, 605}


def test_magic_email_is_case_insensitive_and_preempts_checks(sandbox_server):
    fields = order(customer_email="  Error-601@Sandbox.TEST ", product_names="ghost")
    assert_envelope(call(sandbox_server, "createorder", fields), 601)


def test_other_sandbox_test_addresses_are_processed_normally(sandbox_server):
    fields = order(customer_email="anyone@sandbox.test")
    assert_envelope(call(sandbox_server, "createorder", fields), 0)
    assert sandbox_server.book.all()[0]["params"] == fields


# --- API 1.0 GetAllGoods -----------------------------------------------------------------------

def signed_post(server, body: bytes, method="GetAllGoods"):
    return requests.post(server.url + method, data=body, timeout=5, headers={
        "Content-Type": "application/x-www-form-urlencoded"})


def test_getallgoods_with_right_hash(sandbox_server):
    digest = md5(f"::{LOGIN}::{API_KEY}")
    body = assert_envelope(signed_post(sandbox_server, f"hash={digest}".encode()), 0)
    assert len(body["result"]) == len(SEED_GOODS)
    first = body["result"][0]
    assert set(first) == {"good_id", "good_name", "good_title", "good_sum", "good_type"}
    by_name = {g["good_name"]: g for g in body["result"]}
    assert by_name["digital"]["good_title"] == "Digital product"
    assert by_name[PHYSICAL["good_name"]]["good_type"] == "physical"
    for good in body["result"]:
        whole, cents = good["good_sum"].split(".")
        assert whole.isdigit() and len(cents) == 2


def test_getallgoods_hash_covers_the_exact_bytes_sent(sandbox_server):
    # PHP escapes '~' as %7E; re-encoding the parsed fields would give '~' and a different hash.
    signed = b"note=a+b%7E&x=%D0%AF"
    digest = md5(signed + f"::{LOGIN}::{API_KEY}".encode())
    assert_envelope(signed_post(sandbox_server, signed + f"&hash={digest}".encode()), 0)


@pytest.mark.parametrize("body, code", [
    (b"hash=0123456789abcdef0123456789abcdef", 4),
    (b"hash=", 4),
    (b"", 1),
    (b"x=1", 1),
])
def test_getallgoods_rejects_wrong_or_missing_hash(sandbox_server, body, code):
    reply = assert_envelope(signed_post(sandbox_server, body), code)
    assert reply["result"] == []


def test_getallgoods_hash_uses_the_login(sandbox_server):
    digest = md5(f"::other-login::{API_KEY}")
    assert_envelope(signed_post(sandbox_server, f"hash={digest}".encode()), 4)


# --- API 1.0 GetBills and getOrderDetails --------------------------------------------------------

def signed_call(server, method, fields, login=LOGIN):
    """A 1.0 call signed as JustClick wants: md5(body :: login :: key), the hash last."""
    body = php_urlencode(fields)
    digest = md5(f"{body}::{login}::{API_KEY}")
    return signed_post(server, f"{body}&hash={digest}".encode(), method)


def created(server, **fields):
    assert_envelope(call(server, "createorder", order(**fields)), 0)
    return server.book.all()[0]


def test_getbills_lists_an_emails_invoices_with_products_keyed_by_id(sandbox_server):
    first = created(sandbox_server, product_names="digital,sales-in-messengers")
    created(sandbox_server, customer_email="other@example.com")
    second = created(sandbox_server, customer_email="  Buyer@Example.com ")  # the same contact
    body = assert_envelope(signed_call(sandbox_server, "GetBills", {"email": "buyer@example.com"}), 0)
    assert body["result"] == {
        str(first["bill_id"]): {
            "75696": {"good_name": "digital", "good_title": "Digital product"},
            "75701": {"good_name": "sales-in-messengers", "good_title": "Курс «Продажи в мессенджерах»"}},
        str(second["bill_id"]): {"75696": {"good_name": "digital", "good_title": "Digital product"}},
    }


def test_getbills_filters_by_pay_status_and_answers_400_for_none(sandbox_server):
    bill = created(sandbox_server)["bill_id"]
    fields = {"email": "buyer@example.com"}
    waiting = assert_envelope(signed_call(sandbox_server, "GetBills", {**fields, "pay_status": "waiting"}), 0)
    assert list(waiting["result"]) == [str(bill)]
    for status in ("paid", "cancel"):
        none = assert_envelope(signed_call(sandbox_server, "GetBills", {**fields, "pay_status": status}), 400)
        assert none["result"] == []
    assert_envelope(signed_call(sandbox_server, "GetBills", {**fields, "pay_status": "all"}), 3)
    assert_envelope(signed_call(sandbox_server, "GetBills", {"email": "nobody@example.com"}), 400)


def test_getorderdetails_has_the_documented_fields(sandbox_server):
    before = int(time.time())
    bill = created(sandbox_server, customer_first_name="Анна", customer_last_name="Смирнова",
                   product_names="sales-in-messengers,digital", product_prices="12000", coupon="586",
                   order_tag="vip", utm_source="newsletter", note="Позвонить")["bill_id"]
    body = assert_envelope(signed_call(sandbox_server, "getOrderDetails", {"bill_id": bill}), 0)
    details = body["result"]
    assert details["id"] == str(bill) and details["email"] == "buyer@example.com"
    assert (details["first_name"], details["last_name"]) == ("Анна", "Смирнова")
    assert before <= details["created"] <= time.time()
    assert details["pay_status"] == "waiting" and details["paid"] == "" and details["domain"] == ""
    assert re.fullmatch(rf"/bill/{bill}/[0-9a-f]{{12}}", details["link"])
    # The price sent at its position, the catalogue's for the rest.
    assert details["price"] == details["bill_sum_topay"] == "12990.00"
    assert [(i["id"], i["sum"]) for i in details["items"]] == [("75701", "12000.00"), ("75696", "990.00")]
    assert details["kupon"] == "welcome10" and details["tag"] == "vip" and details["comment"] == "Позвонить"
    assert details["utm"] == {"medium": "", "source": "newsletter", "campaign": "", "content": "", "term": ""}
    assert "good_ids" not in details

    extra = signed_call(sandbox_server, "getOrderDetails", {"bill_id": bill, "good_info": 1}).json()["result"]
    assert extra["good_ids"] == "75701,75696" and extra["good_count"] == 2
    assert {"prepayment_enabled", "prepayment_minsum"} <= set(extra)


@pytest.mark.parametrize("bill_id", ["99999", "", "abc"])
def test_getorderdetails_of_no_such_order_is_400(sandbox_server, bill_id):
    created(sandbox_server)
    assert_envelope(signed_call(sandbox_server, "getOrderDetails", {"bill_id": bill_id}), 400)


def test_an_order_created_paid_is_paid(sandbox_server):
    bill = created(sandbox_server, order_status="Paid")["bill_id"]
    details = signed_call(sandbox_server, "getOrderDetails", {"bill_id": bill}).json()["result"]
    assert details["pay_status"] == "paid" and details["bill_sum_topay"] == "0.00"
    assert details["paid"] >= details["created"]


@pytest.mark.parametrize("method", ["GetBills", "getOrderDetails"])
def test_signed_reads_check_the_hash(sandbox_server, method):
    bill = created(sandbox_server)["bill_id"]
    fields = {"email": "buyer@example.com", "bill_id": bill}
    assert_envelope(signed_call(sandbox_server, method, fields, login="other-login"), 4)
    body = php_urlencode(fields).encode()
    assert_envelope(signed_post(sandbox_server, body, method), 1)
    assert_envelope(signed_post(sandbox_server, body + b"&hash=" + b"0" * 32, method), 4)
    # The rpsKey is not how 1.0 signs: it alone opens nothing.
    assert_envelope(call(sandbox_server, method, fields), 1)


def test_magic_slow_makes_a_listed_order_and_down_makes_none(make_sandbox):
    server = make_sandbox(slow_seconds=0.5)
    for local in ("slow", "down"):
        call(server, "createorder", order(customer_email=f"{local}@sandbox.test"))
    assert_envelope(signed_call(server, "GetBills", {"email": "slow@sandbox.test"}), 0)
    assert_envelope(signed_call(server, "GetBills", {"email": "down@sandbox.test"}), 400)


# --- the payment page --------------------------------------------------------------------------

def pay_link(server, bill):
    details = signed_call(server, "getOrderDetails", {"bill_id": bill}).json()["result"]
    return server.root + details["link"].lstrip("/")


def test_the_payment_page_shows_the_invoice_and_a_pay_button(sandbox_server):
    bill = created(sandbox_server, product_names="sales-in-messengers,digital")["bill_id"]
    page = requests.get(pay_link(sandbox_server, bill), timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Content-Security-Policy"] == "default-src 'none'; form-action 'self'"
    html = page.text
    assert f"<h1>Invoice {bill}</h1>" in html and 'id="amount">15890.00<' in html
    assert "Курс «Продажи в мессенджерах»: 14900.00" in html and "Digital product: 990.00" in html
    assert '<form method="post"><button type="submit">Pay 15890.00</button></form>' in html
    assert "<script" not in html and "style" not in html and API_KEY not in html


def test_paying_marks_the_invoice_paid(sandbox_server):
    bill = created(sandbox_server)["bill_id"]
    link = pay_link(sandbox_server, bill)
    paying = requests.post(link, timeout=5, allow_redirects=False)
    assert paying.status_code == 303 and paying.headers["Location"] == link
    html = requests.get(link, timeout=5).text
    assert '<p id="pay-status"><strong>Paid</strong>' in html and "<button" not in html
    details = signed_call(sandbox_server, "getOrderDetails", {"bill_id": bill}).json()["result"]
    assert details["pay_status"] == "paid" and details["bill_sum_topay"] == "0.00"
    assert details["price"] == "990.00"
    paid = assert_envelope(signed_call(sandbox_server, "GetBills", {"email": "buyer@example.com",
                                                                    "pay_status": "paid"}), 0)
    assert list(paid["result"]) == [str(bill)]


@pytest.mark.parametrize("path", ["bill/{bill}/000000000000", "bill/{next}/{token}", "bill/{bill}"])
def test_a_payment_page_needs_its_token(sandbox_server, path):
    bill = created(sandbox_server)["bill_id"]
    token = pay_link(sandbox_server, bill).rsplit("/", 1)[1]
    url = sandbox_server.root + path.format(bill=bill, next=bill + 1, token=token)
    assert requests.get(url, timeout=5).status_code == 404
    assert requests.post(url, timeout=5).status_code in (404, 405)
    assert sandbox_server.book.get(bill)["paid_at"] is None


def test_mounted_under_a_prefix_the_payment_page_stays_under_it(tmp_path):
    stand_in = create_sandbox_app(API_KEY, login=LOGIN, book=OrderBook(str(tmp_path / "o.sqlite3")))
    with serve(DispatcherMiddleware(lambda e, s: [], {"/desk/sandbox": stand_in})) as root:
        server = SimpleNamespace(url=root + "desk/sandbox/api/", root=root + "desk/sandbox/",
                                 book=stand_in.book)
        bill = created(server)["bill_id"]
        link = pay_link(server, bill)
        paying = requests.post(link, timeout=5, allow_redirects=False)
        assert paying.headers["Location"] == link
        listing = requests.get(server.root, timeout=5).text  # its links are relative, prefix kept
        [href] = re.findall(r'href="([^"]+)"', listing)
        assert server.root + href == link


# --- the orders page ---------------------------------------------------------------------------

def test_orders_page_lists_accepted_orders_escaped(sandbox_server):
    note = "<script>alert(1)</script> Привет"
    # '&' is valid in an address's local part, so the email column is escaped too.
    call(sandbox_server, "createorder", order(note=note, customer_email="tom&jerry@example.com"))
    bill = sandbox_server.book.all()[0]["bill_id"]
    page = requests.get(sandbox_server.root, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    html = page.text
    assert "<title>JustClick sandbox — accepted orders</title>" in html
    assert "real shop" in html
    assert f"<td>{bill}</td>" in html
    assert "<td>tom&amp;jerry@example.com</td>" in html
    assert f"<td>{DIGITAL['good_name']}</td>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Привет" in html
    assert "<script" not in html
    assert API_KEY not in html


def test_orders_page_is_newest_first(sandbox_server):
    for email in ("older@example.com", "newer@example.com"):
        call(sandbox_server, "createorder", order(customer_email=email))
    html = requests.get(sandbox_server.root, timeout=5).text
    assert html.index("newer@example.com") < html.index("older@example.com")


# --- WSGIAdapter -------------------------------------------------------------------------------

@pytest.fixture
def in_process(tmp_path):
    book = OrderBook(str(tmp_path / "adapter.sqlite3"))
    session = requests.Session()
    app = create_sandbox_app(API_KEY, book=book, slow_seconds=1.0)
    session.mount("http://sandbox.invalid/", WSGIAdapter(app))
    return SimpleNamespace(session=session, book=book, url="http://sandbox.invalid/api/")


def test_adapter_serves_success_in_process(in_process):
    data = {"rpsKey": API_KEY, **order(customer_first_name="Ёжик")}
    reply = in_process.session.post(in_process.url + "createorder", data=data, timeout=2)
    assert isinstance(reply, requests.Response)
    assert reply.status_code == 200
    assert reply.url == in_process.url + "createorder"
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert reply.json()["error_code"] == 0
    assert in_process.book.all()[0]["params"]["customer_first_name"] == "Ёжик"
    goods = in_process.session.post(in_process.url + "getgoods", data={"rpsKey": API_KEY})
    assert "Курс «Продажи в мессенджерах»" in goods.text


def test_adapter_raises_read_timeout(in_process):
    data = {"rpsKey": API_KEY, **order(customer_email="slow@sandbox.test")}
    with pytest.raises(requests.exceptions.ReadTimeout):
        in_process.session.post(in_process.url + "createorder", data=data, timeout=(1, 0.2))
    with pytest.raises(requests.exceptions.ReadTimeout):
        in_process.session.post(in_process.url + "createorder", data=data, timeout=0.2)
    assert len(in_process.book.all()) == 2


def test_adapter_returns_a_redirect_as_is(in_process):
    data = {"rpsKey": API_KEY, **order(customer_email="redirect@sandbox.test")}
    reply = in_process.session.post(in_process.url + "createorder", data=data,
                                    allow_redirects=False, timeout=2)
    assert reply.status_code == 302
    assert reply.reason.upper() == "FOUND"
    assert "login" in reply.headers["Location"]
    assert reply.history == []


# --- OrderBook ---------------------------------------------------------------------------------

def test_order_book_is_shared_through_its_file(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    first, second = OrderBook(path), OrderBook(path)
    one = first.add({"customer_email": "a@example.com", "note": "Ж"})
    two = second.add({"customer_email": "b@example.com", "rpsKey": "never stored"})
    assert two == one + 1
    assert [o["bill_id"] for o in first.all()] == [two, one]
    assert first.all() == second.all()
    assert second.all()[1]["params"] == {"customer_email": "a@example.com", "note": "Ж"}
    assert "rpsKey" not in first.all()[0]["params"]


def test_a_book_written_before_payments_existed_still_opens(tmp_path):
    path = str(tmp_path / "old.sqlite3")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (bill_id INTEGER PRIMARY KEY, created_at TEXT NOT NULL,"
                     " params TEXT NOT NULL)")
        conn.execute("INSERT INTO orders VALUES (1001, '2025-01-01T00:00:00+00:00', '{}')")
    conn.close()
    book = OrderBook(path)
    assert book.all() == [{"bill_id": 1001, "created_at": "2025-01-01T00:00:00+00:00", "params": {},
                           "paid_at": None}]
    book.mark_paid(1001)
    assert book.get(1001)["paid_at"]


def test_order_book_numbers_start_at_1001(tmp_path):
    assert OrderBook(str(tmp_path / "fresh.sqlite3")).add({}) == 1001


def test_every_magic_email_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [error_row] = [line for line in readme.splitlines() if line.startswith("| `error-<code>@sandbox.test`")]
    documented_codes = set(re.findall(r"\b\d+\b", error_row.split("|")[1]))
    for email in MAGIC_EMAILS:
        if email.startswith("error-"):
            assert email.split("@")[0].removeprefix("error-") in documented_codes, email
        else:
            assert f"| `{email}` |" in readme, email
