"""A stand-in JustClick that answers like JustClick's API 2.0 (and the signed 1.0 GetAllGoods).

Used in-process by the desk in sandbox mode (through WSGIAdapter), by the tests over real HTTP,
and standalone: `python -m webapp.sandbox --port 8001`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urlsplit

import requests
from markupsafe import escape
from requests.structures import CaseInsensitiveDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Request, Response

SEED_GOODS = [
    {"id": 75696, "good_name": "digital", "good_title": "Digital product",
     "good_sum": "990.00", "good_type": "digital"},
    {"id": 75701, "good_name": "sales-in-messengers",
     "good_title": "Курс «Продажи в мессенджерах»", "good_sum": "14900.00", "good_type": "digital"},
    {"id": 75702, "good_name": "email-marketing-101", "good_title": "Email Marketing 101",
     "good_sum": "3900.00", "good_type": "digital"},
    {"id": 75703, "good_name": "webinar-funnels", "good_title": "Интенсив «Вебинарные воронки»",
     "good_sum": "7900.00", "good_type": "digital"},
    {"id": 75704, "good_name": "copywriting-club", "good_title": "Copywriting Club, monthly access",
     "good_sum": "1900.00", "good_type": "digital"},
    {"id": 75705, "good_name": "mentor-session",
     "good_title": "Личная консультация с наставником, 60 минут", "good_sum": "5000.00",
     "good_type": "digital"},
    {"id": 75706, "good_name": "launch-book-print",
     "good_title": "Книга «Запуск за 30 дней» (печатное издание)", "good_sum": "2490.00",
     "good_type": "physical"},
    {"id": 75707, "good_name": "planner-workbook", "good_title": "Printed workbook and planner set",
     "good_sum": "1590.00", "good_type": "physical"},
    {"id": 75708, "good_name": "online-school-starter", "good_title": "Online School Starter Kit",
     "good_sum": "24900.00", "good_type": "digital"},
]

SEED_COUPONS = [
    {"id": 585, "coupon": "coupon50proc"},
    {"id": 586, "coupon": "welcome10"},
    {"id": 587, "coupon": "blackfriday30"},
    {"id": 588, "coupon": "friends-vip"},
]

SEED_MANAGERS = [
    {"id": 71257, "manager_id": 71257, "manager_name": "Greg"},
    {"id": 71258, "manager_id": 71258, "manager_name": "Анна Смирнова"},
    {"id": 71259, "manager_id": 71259, "manager_name": "Priya Patel"},
]

# The usual text of each code createorder can meet (the contract's shared table).
ERROR_TEXTS = {
    2: "No data sent",
    3: "Invalid data",
    4: "Wrong rpsKey",
    5: "Unknown or missing login",
    6: "IP address not allowed",
    7: "Account disabled",
    8: "Request limit for this address exhausted",
    600: "Wrong customer email",
    601: "Order already exists",
    602: "Order could not be created",
    603: "No products in the order",
    604: "Product does not exist",
    605: "Delivery data is missing for a physical product",
}

UNDOCUMENTED_CODE = 777
MAGIC_DOMAIN = "sandbox.test"

# Like a payment provider's test cards: each address triggers one outcome of createorder.
MAGIC_EMAILS = {
    **{f"error-{code}@{MAGIC_DOMAIN}": f"error code {code}: {text}"
       for code, text in ERROR_TEXTS.items()},
    f"limit@{MAGIC_DOMAIN}": "error code 8: the request limit for this address is exhausted",
    f"slow@{MAGIC_DOMAIN}": "the order is accepted, but the reply comes after the client's timeout",
    f"down@{MAGIC_DOMAIN}": "HTTP 502 with an HTML proxy error page; no order is made",
    f"broken@{MAGIC_DOMAIN}": "the order is accepted, but the reply is truncated JSON",
    f"redirect@{MAGIC_DOMAIN}": "HTTP 302 to a login page; no order is made",
    f"unknown@{MAGIC_DOMAIN}": f"undocumented error code {UNDOCUMENTED_CODE}, shown verbatim",
}

ORDER_STATUSES = {"Expected", "Paid", "Cancel", "MoneyBack"}
ORDER_CONFIRMED = {"Yes", "No", "True", "False", "Confirmed"}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S")
DATE_FIELDS = ("order_created_at", "order_paid_at")
COUNTRY_FIELDS = ("customer_shipping_country_code", "customer_billing_country_code")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
PRICE_RE = re.compile(r"\d+(\.\d+)?")


class OrderBook:
    """Accepted orders in a sqlite file, so several worker processes see the same book."""

    def __init__(self, path: str):
        self.path = str(path)
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS orders ("
                " bill_id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, params TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self):
        # A connection per call: safe across threads and processes; the timeout waits out locks.
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:  # commits, or rolls back on an error
                yield conn
        finally:
            conn.close()

    def add(self, params: dict) -> int:
        params = {k: v for k, v in params.items() if k != "rpsKey"}  # the key is never stored
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            # One statement picks and inserts the next number, so concurrent writers cannot collide.
            cursor = conn.execute(
                "INSERT INTO orders (bill_id, created_at, params)"
                " SELECT COALESCE(MAX(bill_id), 1000) + 1, ?, ? FROM orders",
                (created_at, json.dumps(params, ensure_ascii=False)),
            )
            return cursor.lastrowid

    def all(self) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT bill_id, created_at, params FROM orders ORDER BY bill_id DESC"
            ).fetchall()
        return [{"bill_id": b, "created_at": c, "params": json.loads(p)} for b, c, p in rows]


def _md5(data: str | bytes) -> str:
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


class ApiError(Exception):
    def __init__(self, code: int, text: str | None = None):
        super().__init__(code, text)
        self.code, self.text = code, text or ERROR_TEXTS[code]


def _check_order(form: dict) -> None:
    """Raise ApiError for the first thing JustClick would reject, checked in its order."""
    goods = {g["good_name"]: g for g in SEED_GOODS}
    names = [n.strip() for n in form.get("product_names", "").split(",")]
    if not any(names):
        raise ApiError(603)
    unknown = [n for n in names if n not in goods]
    if unknown:
        quoted = ", ".join(f"'{n}'" for n in unknown)
        raise ApiError(604, f"Product {quoted} does not exist" if len(unknown) == 1
                       else f"Products {quoted} do not exist")

    email = form.get("customer_email", "").strip()
    if not EMAIL_RE.fullmatch(email):
        raise ApiError(600, "Wrong customer email: the address is missing or malformed")

    if form.get("product_prices"):
        prices = [p.strip() for p in form["product_prices"].split(",")]
        if len(prices) > len(names):
            raise ApiError(3, f"Invalid data: {len(prices)} prices for {len(names)} products")
        for price in prices:
            if not PRICE_RE.fullmatch(price):
                raise ApiError(3, f"Invalid data: price '{price}' is not a decimal like 1990.00")

    coupon = form.get("coupon")
    if coupon and coupon not in {str(c["id"]) for c in SEED_COUPONS}:
        raise ApiError(3, f"Invalid data: coupon '{coupon}' is not a coupon id from getcoupons")
    if form.get("order_status") and form["order_status"] not in ORDER_STATUSES:
        raise ApiError(3, "Invalid data: order_status must be one of "
                       + ", ".join(sorted(ORDER_STATUSES)))
    if form.get("order_confirmed") and form["order_confirmed"] not in ORDER_CONFIRMED:
        raise ApiError(3, "Invalid data: order_confirmed must be one of "
                       + ", ".join(sorted(ORDER_CONFIRMED)))
    for field in DATE_FIELDS:
        if form.get(field) and not _is_date(form[field]):
            raise ApiError(3, f"Invalid data: {field} must look like 2025-01-31 14:05:00")
    manager = form.get("order_sales_manager")
    if manager and manager not in {str(m["id"]) for m in SEED_MANAGERS}:
        raise ApiError(3, f"Invalid data: no sales manager with id '{manager}'")
    for field in COUNTRY_FIELDS:
        if form.get(field) and not re.fullmatch(r"[A-Z]{2}", form[field]):
            raise ApiError(3, f"Invalid data: {field} must be two capital letters, e.g. US")

    physical = [n for n in names if goods[n]["good_type"] == "physical"]
    missing = [f for f in ("customer_shipping", "customer_shipping_city") if not form.get(f)]
    if physical and missing:
        raise ApiError(605, f"Physical product '{physical[0]}' needs delivery data: "
                       + ", ".join(missing))


def _is_date(value: str) -> bool:
    for fmt in DATE_FORMATS:
        try:
            # Round-tripping rejects what strptime lets through, such as single-digit fields.
            if datetime.strptime(value, fmt).strftime(fmt) == value:
                return True
        except ValueError:
            pass
    return False


class SandboxApp:
    def __init__(self, api_key, login, book, slow_seconds, latency):
        self.api_key, self.login, self.book = api_key, login, book
        self.slow_seconds, self.latency = slow_seconds, latency
        self.url_map = Map([
            Rule("/", endpoint="orders_page", methods=["GET"]),
            Rule("/api/<method>", endpoint="api", methods=["POST"]),
        ])
        self.methods = {
            "createorder": self.createorder,
            "getgoods": lambda form: [
                {k: g[k] for k in ("id", "good_name", "good_title")} for g in SEED_GOODS],
            "getcoupons": lambda form: [dict(c) for c in SEED_COUPONS],
            "getpersonalmanagers": lambda form: [dict(m) for m in SEED_MANAGERS],
        }

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
            response = getattr(self, endpoint)(request, **args)
        except HTTPException as exc:
            response = exc
        return response(environ, start_response)

    def reply(self, code=0, text="OK", result=None) -> Response:
        body = {"error_code": code, "error_text": text, "result": [] if result is None else result,
                "hash": _md5(f"{code}::{text}::{self.api_key}")}
        return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                        content_type="application/json; charset=utf-8")

    def api(self, request: Request, method: str) -> Response:
        if self.latency:
            time.sleep(self.latency)
        raw = request.get_data(cache=True)  # kept raw: the 1.0 hash covers the exact bytes
        if method == "GetAllGoods":
            return self.get_all_goods(raw)
        handler = self.methods.get(method)
        if handler is None:
            return self.reply(2, f"Unknown method '{method}'")
        form = request.form.to_dict()
        if form.get("rpsKey") != self.api_key:
            return self.reply(4, "Wrong rpsKey" if form.get("rpsKey") else "rpsKey is missing")
        try:
            result = handler(form)
        except ApiError as exc:
            return self.reply(exc.code, exc.text)
        return result if isinstance(result, Response) else self.reply(result=result)

    def get_all_goods(self, raw: bytes) -> Response:
        pairs = raw.split(b"&") if raw else []
        sent = [p[len(b"hash="):] for p in pairs if p.startswith(b"hash=")]
        if not sent:
            return self.reply(1, "Request hash missing")
        signed = b"&".join(p for p in pairs if not p.startswith(b"hash="))
        expected = _md5(signed + f"::{self.login}::{self.api_key}".encode())
        if sent[0].decode("ascii", "replace").lower() != expected:
            return self.reply(4, "Wrong hash")
        return self.reply(result=[
            {"good_id": g["id"], **{k: g[k] for k in ("good_name", "good_title", "good_sum",
                                                       "good_type")}} for g in SEED_GOODS])

    def createorder(self, form: dict):
        email = form.get("customer_email", "").strip().lower()
        magic = email.removesuffix(f"@{MAGIC_DOMAIN}") if email in MAGIC_EMAILS else None
        # slow and broken create the order, so they pass the usual checks; the rest preempt them.
        if magic and magic not in ("slow", "broken"):
            return self.magic(magic)
        _check_order(form)
        self.book.add({k: v for k, v in form.items() if k != "rpsKey"})
        if magic == "slow":
            time.sleep(self.slow_seconds)  # the order exists; the client gives up before this
        if magic == "broken":
            whole = self.reply().get_data()
            return Response(whole[: len(whole) // 2],
                            content_type="application/json; charset=utf-8")
        return []

    def magic(self, local: str) -> Response:
        if local.startswith("error-"):
            raise ApiError(int(local.removeprefix("error-")))
        if local == "limit":
            raise ApiError(8, "The request limit for this address is exhausted, try again later")
        if local == "unknown":
            raise ApiError(UNDOCUMENTED_CODE, "Sandbox: an error code the documentation lacks")
        if local == "down":
            return Response("<html><head><title>502 Bad Gateway</title></head><body>"
                            "<h1>502 Bad Gateway</h1><hr><p>nginx</p></body></html>",
                            status=502, content_type="text/html; charset=utf-8")
        if local == "redirect":
            return Response("", status=302, headers={"Location": "/login?from=api"})
        raise AssertionError(f"magic email {local!r} has no outcome")

    def orders_page(self, request: Request) -> Response:
        rows = []
        for order in self.book.all():
            params = dict(order["params"])
            head = [params.pop(f, "") for f in ("customer_email", "product_names",
                                                 "product_prices")]
            rest = "<br>".join(f"{escape(k)}: {escape(v)}" for k, v in sorted(params.items()))
            cells = [order["bill_id"], order["created_at"], *head]
            rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells)
                        + f"<td>{rest}</td></tr>")
        body = "\n".join(rows) or '<tr><td colspan="6">No orders yet.</td></tr>'
        title = "JustClick sandbox — accepted orders"
        page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
<p>Orders the sandbox accepted, newest first. Nothing here reached a real shop.</p>
<table>
<thead><tr><th>Bill</th><th>Time (UTC)</th><th>Email</th><th>Products</th><th>Prices</th>
<th>Other fields</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</body>
</html>
"""
        return Response(page, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "default-src 'none'"})


def create_sandbox_app(api_key: str, login: str = "sandbox", book: OrderBook | None = None,
                       slow_seconds: float = 35.0, latency: float = 0.0):
    if book is None:
        fd, path = tempfile.mkstemp(prefix="justclick-sandbox-", suffix=".sqlite3")
        os.close(fd)
        book = OrderBook(path)
    return SandboxApp(api_key, login, book, slow_seconds, latency)


class WSGIAdapter(requests.adapters.BaseAdapter):
    """Serves a requests.Session from a WSGI app in-process, honouring the read timeout."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        url = urlsplit(request.url)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        environ = EnvironBuilder(
            path=url.path, query_string=url.query, base_url=f"{url.scheme}://{url.netloc}",
            method=request.method, headers=dict(request.headers), data=body or b"",
        ).get_environ()

        outcome = {}

        def call():
            try:
                app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
                outcome["reply"] = (status, headers, b"".join(app_iter))
            except BaseException as exc:  # handed to the caller's thread below
                outcome["error"] = exc

        # A daemon thread, so a reply slower than the timeout is abandoned as over the network.
        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(read_timeout)
        if worker.is_alive():
            raise requests.exceptions.ReadTimeout(
                f"sandbox did not answer within {read_timeout} s", request=request)
        if "error" in outcome:
            raise outcome["error"]

        status, headers, content = outcome["reply"]
        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(headers.to_wsgi_list())
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response._content = content
        response.raw = BytesIO(content)
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description="A stand-in JustClick API for trying the desk.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--api-key", default="sandbox-key")
    parser.add_argument("--login", default="sandbox")
    parser.add_argument("--db", default=os.path.join(tempfile.gettempdir(),
                                                     "justclick-sandbox.sqlite3"))
    parser.add_argument("--slow-seconds", type=float, default=35.0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)

    from werkzeug.serving import run_simple

    app = create_sandbox_app(args.api_key, args.login, OrderBook(args.db),
                             args.slow_seconds, args.latency)
    print(f"JustClick sandbox API: http://{args.host}:{args.port}/api/  key: {args.api_key}")
    print(f"Accepted orders: http://{args.host}:{args.port}/  (stored in {args.db})")
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
