"""A stand-in JustClick that answers like JustClick's API 2.0 and the signed 1.0 reads
(GetAllGoods, GetBills, getOrderDetails), and serves each invoice's payment page.

Used in-process by the desk in sandbox mode (through WSGIAdapter), by the tests over real HTTP,
and standalone: `python -m webapp.sandbox --port 8001`. It honours SCRIPT_NAME, so it can be
mounted under a prefix (the desk serves the payment pages under /sandbox).
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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import requests
from markupsafe import escape
from requests.structures import CaseInsensitiveDict
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.http import http_date
from werkzeug.routing import Map, Rule
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from webapp.i18n.words import Words

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
# (What they do is shown on the desk's sandbox page, in the operator's language; the error texts
# are the stand-in's JustClick answers and stay as JustClick would send them.)
MAGIC_EMAILS = {
    **{f"error-{code}@{MAGIC_DOMAIN}": Words("error code %(code)s: %(text)s", code=code, text=text)
       for code, text in ERROR_TEXTS.items()},
    f"limit@{MAGIC_DOMAIN}": Words("error code 8: the request limit for this address is exhausted"),
    f"slow@{MAGIC_DOMAIN}": Words("the order is accepted, but the reply comes after the client's timeout"),
    f"down@{MAGIC_DOMAIN}": Words("HTTP 502 with an HTML proxy error page; no order is made"),
    f"broken@{MAGIC_DOMAIN}": Words("the order is accepted, but the reply is truncated JSON"),
    f"redirect@{MAGIC_DOMAIN}": Words("HTTP 302 to a login page; no order is made"),
    f"unknown@{MAGIC_DOMAIN}": Words("undocumented error code %(code)s, shown verbatim",
                                     code=UNDOCUMENTED_CODE),
}

ORDER_STATUSES = {"Expected", "Paid", "Cancel", "MoneyBack"}
ORDER_CONFIRMED = {"Yes", "No", "True", "False", "Confirmed"}
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S")
DATE_FIELDS = ("order_created_at", "order_paid_at")
COUNTRY_FIELDS = ("customer_shipping_country_code", "customer_billing_country_code")
PAY_STATUSES = ("waiting", "paid", "cancel")  # what GetBills filters by
UTM_FIELDS = ("medium", "source", "campaign", "content", "term")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
PRICE_RE = re.compile(r"\d+(\.\d+)?")


class OrderBook:
    """Accepted orders in a sqlite file, so several worker processes see the same book.

    `clock_skew`: seconds the stand-in's clock is ahead of the machine's (negative: behind), as a
    JustClick whose clock differs from the desk's; its `created` times and Date headers follow it."""

    def __init__(self, path: str, clock_skew: float = 0.0):
        self.path = str(path)
        self.clock_skew = clock_skew
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS orders ("
                " bill_id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, params TEXT NOT NULL)"
            )
            # A table of its own, so that a book written before payments existed still opens.
            conn.execute(
                "CREATE TABLE IF NOT EXISTS payments (bill_id INTEGER PRIMARY KEY, paid_at TEXT NOT NULL)"
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

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.clock_skew)

    def add(self, params: dict, created_at: datetime | None = None) -> int:
        """Book an order; `created_at` places it in the past (an order made before the desk looked)."""
        params = {k: v for k, v in params.items() if k != "rpsKey"}  # the key is never stored
        created_at = (created_at or self.now()).isoformat(timespec="seconds")
        with self._connect() as conn:
            # One statement picks and inserts the next number, so concurrent writers cannot collide.
            cursor = conn.execute(
                "INSERT INTO orders (bill_id, created_at, params)"
                " SELECT COALESCE(MAX(bill_id), 1000) + 1, ?, ? FROM orders",
                (created_at, json.dumps(params, ensure_ascii=False)),
            )
            return cursor.lastrowid

    def all(self) -> list[dict]:
        """Every order, newest first; `paid_at` is None while it waits for payment."""
        return self._select("ORDER BY bill_id DESC")

    def get(self, bill_id: int) -> dict | None:
        found = self._select("WHERE bill_id = ?", (bill_id,))
        return found[0] if found else None

    def mark_paid(self, bill_id: int) -> None:
        with self._connect() as conn:  # the first payment's time is kept
            conn.execute("INSERT OR IGNORE INTO payments (bill_id, paid_at) VALUES (?, ?)",
                         (bill_id, self.now().isoformat(timespec="seconds")))

    def _select(self, where: str, args: tuple = ()) -> list[dict]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT bill_id, created_at, params, paid_at FROM orders"
                f" LEFT JOIN payments USING (bill_id) {where}", args
            ).fetchall()
        return [{"bill_id": b, "created_at": c, "params": json.loads(p), "paid_at": paid}
                for b, c, p, paid in rows]


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


def _unix(iso: str | None) -> int | None:
    return int(datetime.fromisoformat(iso).timestamp()) if iso else None


def _lines(params: dict) -> list[tuple[dict, Decimal]]:
    """Each product of an order with its price: the price sent at its position, or the catalogue's."""
    goods = {g["good_name"]: g for g in SEED_GOODS}
    names = [n.strip() for n in params.get("product_names", "").split(",") if n.strip() in goods]
    prices = [p.strip() for p in params.get("product_prices", "").split(",") if p.strip()]
    return [(goods[name], Decimal(prices[i] if i < len(prices) else goods[name]["good_sum"]))
            for i, name in enumerate(names)]


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
    def __init__(self, api_key, login, book, slow_seconds, latency, created_zone=None):
        self.api_key, self.login, self.book = api_key, login, book
        self.slow_seconds, self.latency = slow_seconds, latency
        # getOrderDetails' `created`: unix seconds, or (a zone given) "YYYY-MM-DD HH:MM:SS" in that
        # zone, as an account on local time writes it.
        self.created_zone = ZoneInfo(created_zone) if created_zone else None
        self.url_map = Map([
            Rule("/", endpoint="orders_page", methods=["GET"]),
            Rule("/api/<method>", endpoint="api", methods=["POST"]),
            Rule("/bill/<int:bill_id>/<token>", endpoint="pay_page", methods=["GET", "POST"]),
        ])
        self.methods = {
            "createorder": self.createorder,
            "getgoods": lambda form: [
                {k: g[k] for k in ("id", "good_name", "good_title")} for g in SEED_GOODS],
            "getcoupons": lambda form: [dict(c) for c in SEED_COUPONS],
            "getpersonalmanagers": lambda form: [dict(m) for m in SEED_MANAGERS],
        }
        # API 1.0: signed with a hash instead of carrying the rpsKey.
        self.signed_methods = {
            "GetAllGoods": lambda form: [
                {"good_id": g["id"], **{k: g[k] for k in ("good_name", "good_title", "good_sum",
                                                           "good_type")}} for g in SEED_GOODS],
            "GetBills": self.get_bills,
            "getOrderDetails": self.get_order_details,
        }

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
            response = getattr(self, endpoint)(request, **args)
        except HTTPException as exc:
            response = exc.get_response(environ)
        response.headers["Date"] = http_date(self.book.now())  # JustClick's clock, as its server says it
        return response(environ, start_response)

    def reply(self, code=0, text="OK", result=None) -> Response:
        body = {"error_code": code, "error_text": text, "result": [] if result is None else result,
                "hash": _md5(f"{code}::{text}::{self.api_key}")}
        return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                        content_type="application/json; charset=utf-8")

    def api(self, request: Request, method: str) -> Response:
        if self.latency:
            time.sleep(self.latency)
        try:
            if method in self.signed_methods:
                # Kept raw: the 1.0 hash covers the exact bytes sent.
                result = self.signed_methods[method](self.verified(request.get_data()))
            elif method in self.methods:
                form = request.form.to_dict()
                if form.get("rpsKey") != self.api_key:
                    raise ApiError(4, "Wrong rpsKey" if form.get("rpsKey") else "rpsKey is missing")
                result = self.methods[method](form)
            else:
                raise ApiError(2, f"Unknown method '{method}'")
        except ApiError as exc:
            return self.reply(exc.code, exc.text)
        return result if isinstance(result, Response) else self.reply(result=result)

    def verified(self, raw: bytes) -> dict:
        """The fields of a signed 1.0 request: md5(body before the hash :: login :: key)."""
        pairs = raw.split(b"&") if raw else []
        sent = [p[len(b"hash="):] for p in pairs if p.startswith(b"hash=")]
        if not sent:
            raise ApiError(1, "Request hash missing")
        signed = b"&".join(p for p in pairs if not p.startswith(b"hash="))
        expected = _md5(signed + f"::{self.login}::{self.api_key}".encode())
        if sent[0].decode("ascii", "replace").lower() != expected:
            raise ApiError(4, "Wrong hash")
        return dict(parse_qsl(signed.decode("utf-8", "replace"), keep_blank_values=True))

    def get_bills(self, form: dict) -> dict:
        email = form.get("email", "").strip().lower()
        status = form.get("pay_status") or None
        if status and status not in PAY_STATUSES:
            raise ApiError(3, "Invalid data: pay_status must be one of " + ", ".join(PAY_STATUSES))
        bills = {}
        for order in reversed(self.book.all()):  # oldest first, as a database would list them
            if (order["params"].get("customer_email", "").strip().lower() == email
                    and status in (None, self.pay_status(order))):
                bills[str(order["bill_id"])] = {
                    str(good["id"]): {"good_name": good["good_name"], "good_title": good["good_title"]}
                    for good, _ in _lines(order["params"])}
        if not bills:
            raise ApiError(400, "Order not found")
        return bills

    def get_order_details(self, form: dict) -> dict:
        bill_id = form.get("bill_id", "").strip()
        order = self.book.get(int(bill_id)) if bill_id.isdigit() else None
        if order is None:
            raise ApiError(400, "Order not found")
        params, lines = order["params"], _lines(order["params"])
        price = sum((p for _, p in lines), Decimal(0))
        paid = self.pay_status(order) == "paid"
        coupon = next((c["coupon"] for c in SEED_COUPONS if str(c["id"]) == params.get("coupon")), "")
        details = {
            "id": str(order["bill_id"]),
            **{f: params.get(f"customer_{f}", "") for f in ("first_name", "last_name", "middle_name",
                                                           "email", "phone")},
            "created": self.created(order["created_at"]),
            "pay_status": self.pay_status(order),
            "paid": _unix(order["paid_at"]) or "",
            "domain": "",
            "link": self.pay_path(order["bill_id"]),
            "price": f"{price:.2f}",
            "bill_sum_topay": "0.00" if paid else f"{price:.2f}",
            "tag": params.get("order_tag", ""),
            "kupon": coupon,
            "comment": params.get("note", ""),
            "utm": {f: params.get(f"utm_{f}", "") for f in UTM_FIELDS},
            "items": [{"id": str(good["id"]), "title": good["good_title"], "sum": f"{p:.2f}",
                       "price": f"{p:.2f}", "partners": []} for good, p in lines],
        }
        if form.get("good_info") == "1":
            details.update(good_ids=",".join(str(good["id"]) for good, _ in lines),
                           good_count=len(lines), prepayment_enabled="0", prepayment_minsum="0.00")
        return details

    def created(self, iso: str) -> int | str:
        if self.created_zone is None:
            return _unix(iso)
        return datetime.fromisoformat(iso).astimezone(self.created_zone).strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def pay_status(order: dict) -> str:
        return "paid" if order["paid_at"] else "waiting"

    def pay_path(self, bill_id: int) -> str:
        """The invoice's payment page, relative as JustClick gives it; the token stops guessing."""
        return f"/bill/{bill_id}/{_md5(f'{bill_id}::{self.api_key}')[:12]}"

    def pay_page(self, request: Request, bill_id: int, token: str) -> Response:
        order = self.book.get(bill_id)
        if order is None or self.pay_path(bill_id) != f"/bill/{bill_id}/{token}":
            raise NotFound()
        if request.method == "POST":
            self.book.mark_paid(bill_id)
            return redirect(request.url, 303)  # request.url keeps the prefix it is mounted under
        lines = _lines(order["params"])
        total = sum((p for _, p in lines), Decimal(0))
        items = "\n".join(f"<li>{escape(good['good_title'])}: {p:.2f}</li>" for good, p in lines)
        if order["paid_at"]:
            paid_at = order["paid_at"][:19].replace("T", " ")
            action = f'<p id="pay-status"><strong>Paid</strong> at {escape(paid_at)} UTC.</p>'
        else:
            action = ('<p id="pay-status">Waiting for payment.</p>\n'
                      f'<form method="post"><button type="submit">Pay {total:.2f}</button></form>')
        title = f"Invoice {bill_id}"
        page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} — JustClick sandbox</title></head>
<body>
<h1>{title}</h1>
<p>A sandbox payment page: no money moves.</p>
<ul>
{items}
</ul>
<p>Amount to pay: <strong id="amount">{total:.2f}</strong></p>
{action}
</body>
</html>
"""
        return Response(page, content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "default-src 'none'; form-action 'self'"})

    def createorder(self, form: dict):
        email = form.get("customer_email", "").strip().lower()
        magic = email.removesuffix(f"@{MAGIC_DOMAIN}") if email in MAGIC_EMAILS else None
        # slow and broken create the order, so they pass the usual checks; the rest preempt them.
        if magic and magic not in ("slow", "broken"):
            return self.magic(magic)
        _check_order(form)
        bill_id = self.book.add({k: v for k, v in form.items() if k != "rpsKey"})
        if form.get("order_status") == "Paid":
            self.book.mark_paid(bill_id)
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
            # Relative without a leading slash, so the link keeps any prefix the app is mounted under.
            pay = f'<a href="{escape(self.pay_path(order["bill_id"])[1:])}">{self.pay_status(order)}</a>'
            rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells)
                        + f"<td>{rest}</td><td>{pay}</td></tr>")
        body = "\n".join(rows) or '<tr><td colspan="7">No orders yet.</td></tr>'
        title = "JustClick sandbox — accepted orders"
        page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
<p>Orders the sandbox accepted, newest first. Nothing here reached a real shop.</p>
<table>
<thead><tr><th>Bill</th><th>Time (UTC)</th><th>Email</th><th>Products</th><th>Prices</th>
<th>Other fields</th><th>Payment</th></tr></thead>
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
                       slow_seconds: float = 35.0, latency: float = 0.0, created_zone: str | None = None):
    if book is None:
        fd, path = tempfile.mkstemp(prefix="justclick-sandbox-", suffix=".sqlite3")
        os.close(fd)
        book = OrderBook(path)
    return SandboxApp(api_key, login, book, slow_seconds, latency, created_zone)


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
    print(f"Accepted orders: http://{args.host}:{args.port}/  (stored in {args.db}); each order's"
          f" payment page is at its link, e.g. http://{args.host}:{args.port}/bill/1001/...")
    run_simple(args.host, args.port, app, threaded=True)


if __name__ == "__main__":
    main()
