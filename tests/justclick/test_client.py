"""The JustClick client against real HTTP on 127.0.0.1: the stand-in, pytest-httpserver, raw sockets."""

import hashlib
import json
import logging
import re
import socket
import threading
import traceback
from contextlib import contextmanager

import pytest
from werkzeug.wrappers import Response

from tests.support.desk import API_KEY, LOGIN, reply_hash, serve
from webapp.justclick.client import (
    BadResponse,
    JustClickClient,
    JustClickError,
    Rejected,
    Reply,
    Unavailable,
    php_urlencode,
)
from webapp.sandbox.standin import (
    ERROR_TEXTS,
    MAGIC_DOMAIN,
    SEED_COUPONS,
    SEED_GOODS,
    SEED_MANAGERS,
    OrderBook,
    create_sandbox_app,
)

TIMEOUT = 10.0  # for calls that should be answered; timeout tests give their own, short one
EMAIL = "ivan.petrov@example.com"
ENVELOPE_OK = {"error_code": 0, "error_text": "OK", "result": [], "hash": reply_hash(0, "OK")}


def make_client(url, key=API_KEY, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    kwargs.setdefault("connect_timeout", TIMEOUT)
    return JustClickClient(url, key, login=LOGIN, **kwargs)


def order(email=EMAIL, **extra):
    return {"customer_email": email, "product_names": "digital", **extra}


def magic(local):
    return f"{local}@{MAGIC_DOMAIN}"


class Recorder:
    """WSGI middleware noting each request the server handled, so tests can wait for it to finish."""

    def __init__(self, app):
        self.app = app
        self.started = 0
        self.finished = []
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.started += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.changed:
                self.finished.append(environ["PATH_INFO"])
                self.changed.notify_all()

    def wait_idle(self, at_least=1, timeout=5.0):
        with self.changed:
            idle = self.changed.wait_for(
                lambda: len(self.finished) >= at_least and len(self.finished) == self.started, timeout
            )
        assert idle, "the stand-in did not finish its requests"


@pytest.fixture
def recorded_sandbox(tmp_path):
    """The stand-in with a slow@ delay of 1.5 s (well after a 0.3 s timeout), served behind a Recorder."""
    book = OrderBook(str(tmp_path / "orders.sqlite3"))
    recorder = Recorder(create_sandbox_app(API_KEY, login=LOGIN, book=book, slow_seconds=1.5))
    with serve(recorder) as root:
        recorder.url, recorder.book = root + "api/", book
        yield recorder


def _read_request(conn) -> bytes:
    """Read one HTTP request (head and Content-Length body) from a socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    while length and len(body) < int(length.group(1)):
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def socket_server(answer):
    """A bare TCP server: reads each request whole, records it, then calls answer(conn)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.02)
    stop = threading.Event()
    received = []

    def run():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                received.append(_read_request(conn))
                answer(conn, stop)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/", received
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture
def closed_port_url():
    """A port bound but not listening: connecting to it is refused, and no one else can take it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/"
    sock.close()


# --- API 2.0 methods against the stand-in ----------------------------------------------------------

def test_get_goods_returns_the_shop_goods(sandbox_server):
    goods = make_client(sandbox_server.url).get_goods()
    assert goods == [{"id": g["id"], "good_name": g["good_name"], "good_title": g["good_title"]}
                     for g in SEED_GOODS]
    assert "Курс «Продажи в мессенджерах»" in [g["good_title"] for g in goods]


def test_get_coupons_returns_ids_and_codes(sandbox_server):
    assert make_client(sandbox_server.url).get_coupons() == SEED_COUPONS


def test_get_managers_returns_the_employees(sandbox_server):
    managers = make_client(sandbox_server.url).get_managers()
    assert managers == SEED_MANAGERS
    assert {m["manager_name"] for m in managers} >= {"Greg", "Анна Смирнова"}


def test_get_all_goods_is_signed_and_gives_prices(sandbox_server):
    goods = make_client(sandbox_server.url).get_all_goods()
    assert {g["good_name"]: g["good_sum"] for g in goods} == {
        g["good_name"]: g["good_sum"] for g in SEED_GOODS}
    assert {g["good_id"] for g in goods} == {g["id"] for g in SEED_GOODS}


def test_get_all_goods_with_a_wrong_login_fails_the_signature(sandbox_server):
    client = JustClickClient(sandbox_server.url, API_KEY, login="someone-else", timeout=TIMEOUT)
    with pytest.raises(Rejected) as caught:
        client.get_all_goods()
    assert caught.value.code == 4


def test_get_all_goods_code_700_means_no_products(httpserver):
    httpserver.expect_request("/api/GetAllGoods", method="POST").respond_with_json(
        {"error_code": 700, "error_text": "No products", "result": [], "hash": "0" * 32})
    assert make_client(httpserver.url_for("/api/")).get_all_goods() == []
    (request, _), = httpserver.log
    # The contract: hash = md5(body_without_hash + "::" + login + "::" + secret); the body is empty.
    expected = hashlib.md5(f"::{LOGIN}::{API_KEY}".encode()).hexdigest()
    assert request.get_data() == f"hash={expected}".encode()


@pytest.mark.parametrize("reply_hash_sent", ["0" * 32, None, reply_hash(0, "OK", key="another-key")],
                         ids=["zeroed", "missing", "another key"])
def test_get_all_goods_whose_reply_does_not_verify_is_a_bad_response(httpserver, reply_hash_sent):
    goods = [{"good_id": 1, "good_name": "kurs", "good_title": "Kurs", "good_sum": "1.00"}]
    reply = {**ENVELOPE_OK, "result": goods, "hash": reply_hash_sent}
    httpserver.expect_request("/api/GetAllGoods").respond_with_json(
        {k: v for k, v in reply.items() if v is not None})
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/")).get_all_goods()
    assert str(caught.value).startswith("JustClick's reply could not be verified")
    assert caught.value.body == ""  # nothing of an unverified reply is kept


def test_api_2_replies_are_read_whatever_their_hash(httpserver):
    """Only API 1.0's reply hash is documented; 2.0's is an inference, so it is not checked."""
    httpserver.expect_request("/api/getgoods").respond_with_json(
        {**ENVELOPE_OK, "result": [{"id": 1, "good_name": "kurs", "good_title": "Kurs"}], "hash": "0" * 32})
    assert make_client(httpserver.url_for("/api/")).get_goods()[0]["good_name"] == "kurs"


def test_get_all_goods_other_codes_still_raise(httpserver):
    httpserver.expect_request("/api/GetAllGoods").respond_with_json(
        {"error_code": 4, "error_text": "Wrong hash", "result": []})
    with pytest.raises(Rejected) as caught:
        make_client(httpserver.url_for("/api/")).get_all_goods()
    assert caught.value.code == 4


def test_get_bills_lists_the_customers_invoices_with_their_products(sandbox_server, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(sandbox_server.url)
    client.create_order(order(product_names="digital,email-marketing-101"))
    client.create_order(order(email="someone.else@example.com"))
    [mine, _] = [o["bill_id"] for o in reversed(sandbox_server.book.all())]
    assert client.get_bills(EMAIL) == {str(mine): {
        "75696": {"good_name": "digital", "good_title": "Digital product"},
        "75702": {"good_name": "email-marketing-101", "good_title": "Email Marketing 101"}}}
    assert list(client.get_bills(EMAIL, pay_status="waiting")) == [str(mine)]
    assert client.get_bills(EMAIL, pay_status="paid") == {}  # code 400: none
    assert client.get_bills("nobody@example.com") == {}
    assert "GetBills" in caplog.text and EMAIL not in caplog.text  # the email stays out of the logs


def test_get_order_details_reads_one_invoice(sandbox_server):
    client = make_client(sandbox_server.url)
    client.create_order(order(customer_first_name="Иван", product_names="digital"))
    bill = sandbox_server.book.all()[0]["bill_id"]
    details = client.get_order_details(bill)
    assert details["id"] == str(bill) and details["first_name"] == "Иван"
    assert details["price"] == "990.00" and details["good_ids"] == "75696"
    assert "good_ids" not in client.get_order_details(bill, good_info=False)
    assert client.get_order_details(bill + 1) is None  # code 400: no such order


@pytest.mark.parametrize("call", [lambda c: c.get_bills(EMAIL), lambda c: c.get_order_details(1)])
def test_a_signed_read_refused_for_its_signature_says_so(sandbox_server, call):
    client = JustClickClient(sandbox_server.url, API_KEY, login="someone-else", timeout=TIMEOUT)
    with pytest.raises(Rejected) as caught:
        call(client)
    assert caught.value.code == 4 and caught.value.text == "Wrong hash"
    # Not the 2.0 hint about the key alone: a 1.0 signature also covers the login.
    assert "login" in caught.value.hint and "API 1.0" in caught.value.hint
    assert "administrator" in caught.value.hint and "JUSTCLICK_" not in caught.value.hint


@pytest.mark.parametrize("method, result", [("GetBills", "x"), ("GetBills", 5), ("getOrderDetails", []),
                                            ("getOrderDetails", "x")])
def test_a_signed_read_without_its_shape_is_a_bad_response(httpserver, method, result):
    httpserver.expect_request(f"/api/{method}").respond_with_json({**ENVELOPE_OK, "result": result})
    client = make_client(httpserver.url_for("/api/"))
    with pytest.raises(BadResponse):
        client.get_bills(EMAIL) if method == "GetBills" else client.get_order_details(1)


def test_get_bills_takes_an_empty_php_array_as_no_invoices(httpserver):
    httpserver.expect_request("/api/GetBills").respond_with_json(ENVELOPE_OK)
    assert make_client(httpserver.url_for("/api/")).get_bills(EMAIL) == {}


@pytest.mark.parametrize("call", ["get_goods", "get_coupons", "get_managers", "create_order"])
def test_a_wrong_key_is_rejected_with_code_4_and_a_hint(sandbox_server, call):
    client = make_client(sandbox_server.url, key="not-the-key")
    with pytest.raises(Rejected) as caught:
        getattr(client, call)(*([order()] if call == "create_order" else []))
    assert caught.value.code == 4
    assert caught.value.text == "Wrong rpsKey"
    # Said to an operator, who cannot change the key: who can, and where, but no setting's name.
    assert "administrator" in caught.value.hint and "Integration and API" in caught.value.hint
    assert "JUSTCLICK_" not in caught.value.hint
    assert caught.value.may_have_reached is False
    assert sandbox_server.book.all() == []


# --- createorder ---------------------------------------------------------------------------------

def test_create_order_success_is_booked_once_with_cyrillic_and_no_key(sandbox_server):
    params = order(customer_first_name="Иван", customer_last_name="Петров",
                   customer_shipping_city="Москва", note="Позвонить после 18:00 & не раньше",
                   product_names="digital,sales-in-messengers", product_prices="990.00,12000.00")
    reply = make_client(sandbox_server.url).create_order(params)
    assert isinstance(reply, Reply)
    assert reply.code == 0
    assert reply.result == []
    orders = sandbox_server.book.all()
    assert len(orders) == 1
    assert orders[0]["params"] == params
    assert "rpsKey" not in orders[0]["params"]
    assert API_KEY not in json.dumps(orders, ensure_ascii=False)


def test_create_order_wire_format(httpserver):
    httpserver.expect_request("/api/createorder", method="POST").respond_with_json(ENVELOPE_OK)
    params = {
        "customer_email": "ivan.petrov@example.com",
        "customer_first_name": "Иван",
        "customer_last_name": "Петров",
        "customer_phone": "+79161234567",
        "customer_shipping_city": "Москва",
        "customer_shipping_country_code": "RU",
        "order_created_at": "2025-01-31 14:05:00",
        "order_status": "Expected",
        "product_names": "digital,sales-in-messengers",
        "product_prices": "990.00,14900.00",
        "coupon": "585",
        "note": "Call after 18:00 & ask for Anna = VIP + gift",
        "utm_source": "newsletter",
    }
    reply = make_client(httpserver.url_for("/api/"), key="wire-key-9f").create_order(params)
    assert reply.code == 0

    (request, _), = httpserver.log
    assert request.method == "POST"
    assert request.path == "/api/createorder"
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert request.mimetype_params.get("charset", "utf-8").lower() == "utf-8"
    assert request.get_data() == (
        b"rpsKey=wire-key-9f"
        b"&customer_email=ivan.petrov%40example.com"
        b"&customer_first_name=%D0%98%D0%B2%D0%B0%D0%BD"
        b"&customer_last_name=%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2"
        b"&customer_phone=%2B79161234567"
        b"&customer_shipping_city=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0"
        b"&customer_shipping_country_code=RU"
        b"&order_created_at=2025-01-31+14%3A05%3A00"
        b"&order_status=Expected"
        b"&product_names=digital%2Csales-in-messengers"
        b"&product_prices=990.00%2C14900.00"
        b"&coupon=585"
        b"&note=Call+after+18%3A00+%26+ask+for+Anna+%3D+VIP+%2B+gift"
        b"&utm_source=newsletter"
    )
    # And a form parser reads back exactly what was sent.
    assert request.form.to_dict() == {"rpsKey": "wire-key-9f", **params}


# --- rejections ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(ERROR_TEXTS))
def test_magic_error_emails_are_rejected_with_their_code(sandbox_server, code):
    with pytest.raises(Rejected) as caught:
        make_client(sandbox_server.url).create_order(order(magic(f"error-{code}")))
    exc = caught.value
    assert exc.code == code
    assert exc.text == ERROR_TEXTS[code]
    assert exc.text in str(exc)
    assert exc.hint  # every documented code has an operator hint, in the operator's terms
    assert "JUSTCLICK_" not in exc.hint
    assert exc.may_have_reached is False
    assert sandbox_server.book.all() == []


def test_limit_is_code_8_with_the_api_not_enabled_hint(sandbox_server):
    with pytest.raises(Rejected) as caught:
        make_client(sandbox_server.url).create_order(order(magic("limit")))
    assert caught.value.code == 8
    # What the operator can do (wait), and what only the administrator can (ask for API 2.0).
    assert "Wait a few minutes" in caught.value.hint and "administrator" in caught.value.hint
    assert "support" in caught.value.hint and "API 2.0" in caught.value.hint


def test_an_invalid_order_is_rejected_with_the_stand_ins_reason(sandbox_server):
    with pytest.raises(Rejected) as caught:
        make_client(sandbox_server.url).create_order(order(product_names="no-such-product"))
    assert caught.value.code == 604
    assert caught.value.text == "Product 'no-such-product' does not exist"
    assert sandbox_server.book.all() == []


def test_an_undocumented_code_is_kept_verbatim_without_a_hint(sandbox_server):
    with pytest.raises(Rejected) as caught:
        make_client(sandbox_server.url).create_order(order(magic("unknown")))
    assert caught.value.code == 777
    assert caught.value.text == "Sandbox: an error code the documentation lacks"
    assert caught.value.hint is None


def test_an_undocumented_text_is_not_rewritten(httpserver):
    text = "Неизвестная ошибка: <b>quota</b> & 50% used"
    httpserver.expect_request("/api/createorder").respond_with_json(
        {"error_code": 9001, "error_text": text, "result": []})
    with pytest.raises(Rejected) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert (caught.value.code, caught.value.text, caught.value.hint) == (9001, text, None)
    assert caught.value.reply["error_text"] == text


# --- unavailable: never retried once it may have reached JustClick ----------------------------------

def test_timeout_on_createorder_is_unavailable_and_never_retried(recorded_sandbox):
    client = make_client(recorded_sandbox.url, timeout=0.3)
    with pytest.raises(Unavailable) as caught:
        client.create_order(order(magic("slow")))
    assert caught.value.may_have_reached is True
    recorded_sandbox.wait_idle()
    assert recorded_sandbox.finished == ["/api/createorder"]
    assert len(recorded_sandbox.book.all()) == 1


def test_a_connection_closed_after_the_request_is_unavailable_and_not_retried():
    with socket_server(lambda conn, stop: None) as (url, received):
        with pytest.raises(Unavailable) as caught:
            make_client(url).create_order(order())
        assert caught.value.may_have_reached is True
        assert len(received) == 1
        assert received[0].startswith(b"POST /api/createorder HTTP/1.1\r\n")
        assert b"product_names=digital" in received[0]


def test_a_server_that_never_answers_is_a_timeout_with_one_request():
    with socket_server(lambda conn, stop: stop.wait(2)) as (url, received):
        with pytest.raises(Unavailable) as caught:
            make_client(url, timeout=0.3).create_order(order())
        assert caught.value.may_have_reached is True
        assert len(received) == 1


def test_connection_refused_did_not_reach(closed_port_url):
    with pytest.raises(Unavailable) as caught:
        make_client(closed_port_url).create_order(order())
    assert caught.value.may_have_reached is False


# --- bad responses ---------------------------------------------------------------------------------

def test_an_html_502_is_a_bad_response(sandbox_server):
    with pytest.raises(BadResponse) as caught:
        make_client(sandbox_server.url).create_order(order(magic("down")))
    assert caught.value.status == 502
    assert "502" in str(caught.value)
    assert caught.value.may_have_reached is True  # the client cannot know a proxy made nothing
    assert sandbox_server.book.all() == []


def test_broken_json_is_a_bad_response_and_the_order_is_not_resent(sandbox_server):
    with pytest.raises(BadResponse) as caught:
        make_client(sandbox_server.url).create_order(order(magic("broken")))
    assert caught.value.status == 200
    assert caught.value.may_have_reached is True
    assert len(sandbox_server.book.all()) == 1


def test_a_redirect_from_the_stand_in_is_a_bad_response(sandbox_server):
    with pytest.raises(BadResponse) as caught:
        make_client(sandbox_server.url).create_order(order(magic("redirect")))
    assert caught.value.status == 302
    assert sandbox_server.book.all() == []


def test_a_redirect_is_not_followed(httpserver):
    httpserver.expect_request("/api/createorder").respond_with_response(
        Response("", status=302, headers={"Location": httpserver.url_for("/login")}))
    httpserver.expect_request("/login").respond_with_json(ENVELOPE_OK)
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.status == 302
    assert [request.path for request, _ in httpserver.log] == ["/api/createorder"]


@pytest.mark.parametrize("envelope", [
    {"error_text": "OK", "result": []},
    {"error_code": None, "error_text": "OK", "result": []},
    {"error_code": "zero", "error_text": "OK", "result": []},
    [0, "OK"],
])
def test_an_envelope_without_a_usable_error_code_is_a_bad_response(httpserver, envelope):
    httpserver.expect_request("/api/createorder").respond_with_json(envelope)
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.status == 200


def test_error_code_as_a_string_is_accepted(httpserver):
    httpserver.expect_request("/api/createorder").respond_with_json(
        {"error_code": "0", "error_text": "order created", "result": []})
    reply = make_client(httpserver.url_for("/api/")).create_order(order())
    assert (reply.code, reply.text, reply.result) == (0, "order created", [])


def test_a_string_error_code_that_is_not_zero_is_rejected(httpserver):
    httpserver.expect_request("/api/createorder").respond_with_json(
        {"error_code": "602", "error_text": "Order could not be created", "result": []})
    with pytest.raises(Rejected) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.code == 602


@pytest.mark.parametrize("code", [False, True])
def test_a_boolean_error_code_is_a_bad_response(httpserver, code):
    # Python reads JSON false as 0: without care, "error_code": false would count as success.
    httpserver.expect_request("/api/createorder").respond_with_json(
        {"error_code": code, "error_text": "OK", "result": []})
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.may_have_reached is True


@pytest.mark.parametrize("status", [500, 404, 403])
def test_a_success_envelope_with_an_error_status_is_unknown(httpserver, status):
    httpserver.expect_request("/api/createorder").respond_with_json(ENVELOPE_OK, status=status)
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.status == status
    assert caught.value.may_have_reached is True
    assert f"HTTP {status}" in str(caught.value) and "unknown" in str(caught.value)


def test_an_error_envelope_with_an_error_status_is_still_a_refusal(httpserver):
    httpserver.expect_request("/api/createorder").respond_with_json(
        {"error_code": 602, "error_text": "Order could not be created", "result": []}, status=500)
    with pytest.raises(Rejected) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.code == 602


def test_a_302_carrying_an_envelope_is_read_like_a_200_and_not_followed(httpserver):
    login = httpserver.url_for("/login")
    httpserver.expect_request("/api/createorder").respond_with_response(Response(
        json.dumps({**ENVELOPE_OK, "error_text": "order created"}), status=302,
        headers={"Location": login}, content_type="application/json"))
    httpserver.expect_request("/api/getgoods").respond_with_response(Response(
        json.dumps({"error_code": 4, "error_text": "Wrong rpsKey", "result": []}), status=302,
        headers={"Location": login}, content_type="text/html"))
    client = make_client(httpserver.url_for("/api/"))
    reply = client.create_order(order())
    assert (reply.code, reply.text) == (0, "order created")
    with pytest.raises(Rejected) as caught:
        client.get_goods()
    assert caught.value.code == 4
    assert [request.path for request, _ in httpserver.log] == ["/api/createorder", "/api/getgoods"]


@pytest.mark.parametrize("status", [301, 303, 307])
def test_other_redirects_carrying_an_envelope_are_bad_responses(httpserver, status):
    httpserver.expect_request("/api/createorder").respond_with_response(Response(
        json.dumps(ENVELOPE_OK), status=status, headers={"Location": httpserver.url_for("/login")}))
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/")).create_order(order())
    assert caught.value.status == status


def test_a_list_method_without_a_list_is_a_bad_response(httpserver):
    httpserver.expect_request("/api/getgoods").respond_with_json(
        {"error_code": 0, "error_text": "OK", "result": {"id": 1}})
    with pytest.raises(BadResponse):
        make_client(httpserver.url_for("/api/")).get_goods()


# --- secrets and logs ------------------------------------------------------------------------------

SECRET = "S3cret-rps-Key-77"


def _exception_texts(exc: JustClickError) -> str:
    parts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    parts += [str(getattr(exc, name, "")) for name in ("body", "text", "reply")]
    return "\n".join(parts)


def test_the_key_appears_in_no_repr_exception_or_log(caplog, sandbox_server, httpserver, closed_port_url):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    httpserver.expect_request("/api/createorder").respond_with_data(
        "<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html")

    client = make_client(sandbox_server.url, key=SECRET)
    assert SECRET not in repr(client) and SECRET not in str(client)
    failures = []
    for call in (
        lambda: client.get_goods(),  # wrong key for the stand-in: Rejected
        lambda: client.get_all_goods(),
        lambda: client.create_order(order()),
        lambda: make_client(httpserver.url_for("/api/"), key=SECRET).create_order(order()),
        lambda: make_client(closed_port_url, key=SECRET).get_coupons(),
    ):
        with pytest.raises(JustClickError) as caught:
            call()
        failures.append(caught.value)
    assert [type(exc) for exc in failures] == [Rejected, Rejected, Rejected, BadResponse, Unavailable]
    for exc in failures:
        assert SECRET not in _exception_texts(exc)

    assert any(r.name.startswith("urllib3") for r in caplog.records)  # DEBUG really was captured
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    assert SECRET not in caplog.text


@pytest.mark.parametrize("key", [SECRET, "k/y+s3cr3t=&x"])
def test_a_reply_echoing_the_key_does_not_carry_it(httpserver, key):
    httpserver.expect_request("/api/createorder").respond_with_handler(
        lambda request: Response(request.get_data(), status=500, content_type="text/plain"))
    with pytest.raises(BadResponse) as caught:
        make_client(httpserver.url_for("/api/"), key=key).create_order(order(note="echo me"))
    exc = caught.value
    assert exc.status == 500
    encoded = httpserver.log[0][0].get_data().decode().split("&")[0].removeprefix("rpsKey=")
    assert key not in exc.body and encoded not in exc.body
    assert exc.body.startswith("rpsKey=[rpsKey]&")
    assert "note=echo+me" in exc.body  # the rest of the reply is kept for diagnosis
    assert key not in _exception_texts(exc)


def test_an_error_text_echoing_the_key_does_not_carry_it(httpserver):
    httpserver.expect_request("/api/getgoods").respond_with_json(
        {"error_code": 4, "error_text": f"Wrong rpsKey {SECRET}", "result": []})
    with pytest.raises(Rejected) as caught:
        make_client(httpserver.url_for("/api/"), key=SECRET).get_goods()
    assert caught.value.code == 4
    assert SECRET not in _exception_texts(caught.value)
    assert caught.value.text == "Wrong rpsKey [rpsKey]"


def _client_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "webapp.justclick.client"]


def test_one_log_line_per_call_with_method_status_code_and_ms(caplog, sandbox_server, closed_port_url):
    caplog.set_level(logging.DEBUG)
    client = make_client(sandbox_server.url)
    client.get_goods()
    client.create_order(order(customer_first_name="Иван", customer_phone="+79161234567"))
    with pytest.raises(Rejected):
        client.create_order(order(magic("error-602")))
    with pytest.raises(Unavailable):
        make_client(closed_port_url).get_managers()

    lines = _client_lines(caplog)
    assert len(lines) == 4
    assert re.search(r"\bgetgoods\b.*\bhttp=200\b.*\bcode=0\b.*\bms=\d+", lines[0])
    assert re.search(r"\bcreateorder\b.*\bhttp=200\b.*\bcode=0\b.*\bms=\d+", lines[1])
    assert re.search(r"\bcreateorder\b.*\bhttp=200\b.*\bcode=602\b.*\bms=\d+", lines[2])
    assert re.search(r"\bgetpersonalmanagers\b.*\bms=\d+", lines[3])
    assert "http=200" not in lines[3]
    # Customer data stays out of the logs, whoever wrote them (urllib3 included).
    for personal in (EMAIL, "Иван", "79161234567", magic("error-602"), "sandbox.test"):
        assert personal not in caplog.text


def test_a_reply_without_charset_is_read_as_utf8(httpserver):
    body = json.dumps({"error_code": 0, "error_text": "OK", "hash": "0" * 32,
                       "result": [{"id": 1, "good_name": "kurs", "good_title": "Курс «Продажи»"}]},
                      ensure_ascii=False).encode()
    httpserver.expect_request("/api/getgoods").respond_with_data(body, content_type="text/html")
    client = JustClickClient(httpserver.url_for("/api/"), "k", timeout=2)
    assert client.get_goods()[0]["good_title"] == "Курс «Продажи»"


def test_bodies_are_encoded_like_phps_http_build_query():
    # API 1.0 signs these exact bytes: spaces as +, and ~ * ! ' ( ) escaped as PHP does.
    assert php_urlencode({"a": "x~y z", "b": "*!'()", "c": "Иван"}) == \
        "a=x%7Ey+z&b=%2A%21%27%28%29&c=%D0%98%D0%B2%D0%B0%D0%BD"
