"""The team's Orders page over HTTP with the stand-in: every operator's orders outlive their sessions,
found by name, phone or invoice, filtered by who, payment state and day, paged, exported."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.security import generate_password_hash

from tests.support.desk import OPERATOR, TEAM_USERS, desk_config, sign_in
from webapp import create_app
from webapp.attempts import team_orders
from webapp.sandbox.standin import SEED_GOODS
from webapp.web.services import services_of

HX = {"HX-Request": "true"}
DIGITAL = next(g for g in SEED_GOODS if g["good_type"] == "digital")
BOB = {"username": "bob", "password": "battery staple 9", "manager_id": 71257, "name": "Bob Brown"}
TEAM = {**TEAM_USERS, BOB["username"]: {"password_hash": generate_password_hash(BOB["password"]),
                                         "manager_id": BOB["manager_id"], "name": BOB["name"]}}


@pytest.fixture
def desk(sandbox_server, tmp_path):
    return create_app(desk_config(sandbox_server.url, tmp_path, TEAM_USERS=TEAM))


def send(client, email: str, **fields) -> str:
    """An order as the form posts it; the attempt's id."""
    data = {"customer_email": email, "products-0-good_name": DIGITAL["good_name"], **fields}
    response = client.post("/", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def listed(client, **args) -> list[str]:
    """The customers' emails the Orders page lists, in its order."""
    page = html.unescape(client.get("/orders", query_string=args).get_data(as_text=True))
    cells = re.findall(r'<td data-label="Customer">(.*?)</td>', page, re.S)
    return [re.findall(r"[^\s<>]+@[^\s<>]+", cell)[-1] for cell in cells]


def test_every_operators_orders_outlive_their_sessions_and_each_sees_all(desk):
    alice = sign_in(desk.test_client())
    bob = sign_in(desk.test_client(), BOB["username"], BOB["password"])
    send(alice, "anna@example.com", customer_first_name="Анна", customer_last_name="Иванова")
    send(bob, "boris@example.com")
    for client, who in ((alice, OPERATOR), (bob, BOB)):
        client.post("/logout")
        sign_in(client, who["username"], who["password"])
        assert "No orders sent yet in this session" in client.get("/history").get_data(as_text=True)
        page = client.get("/orders").get_data(as_text=True)
        assert listed(client) == ["boris@example.com", "anna@example.com"]
        assert "Анна Иванова" in page and "Alice Smith" in page and "Bob Brown" in page
    assert listed(alice, who="mine") == ["anna@example.com"]
    assert listed(bob, who="mine") == ["boris@example.com"]


def test_an_order_is_found_by_part_of_a_name_a_phone_typed_otherwise_or_its_invoice(desk, sandbox_server):
    client = sign_in(desk.test_client())
    first = send(client, "pavel@example.com", customer_first_name="Павел", customer_last_name="Орлов",
                 customer_phone="+79123456789")
    send(client, "olga@example.com", customer_first_name="Ольга", customer_phone="+79990001122")
    client.get(f"/attempts/{first}/invoice", headers=HX)  # its invoice found and kept
    bill = next(o["bill_id"] for o in sandbox_server.book.all()
                if o["params"]["customer_email"] == "pavel@example.com")
    assert listed(client, q="орл") == ["pavel@example.com"]
    assert listed(client, q="8 (912) 345-67-89") == ["pavel@example.com"]
    assert listed(client, q=str(bill)) == ["pavel@example.com"]
    assert listed(client, q="nobody") == []
    assert "No order matches these filters." in client.get("/orders?q=nobody").get_data(as_text=True)


def test_the_payment_filters_follow_what_the_invoice_said(desk, sandbox_server):
    client = sign_in(desk.test_client())
    paid = send(client, "paid@example.com")
    waiting = send(client, "waiting@example.com")
    refused = client.post("/", data={"customer_email": "error-602@sandbox.test",
                                     "products-0-good_name": DIGITAL["good_name"]})
    assert "Error 602" in refused.get_data(as_text=True)  # refused: no order, in no payment state
    bills = {o["params"]["customer_email"]: o["bill_id"] for o in sandbox_server.book.all()}
    sandbox_server.book.mark_paid(bills["paid@example.com"])
    for entry_id in (paid, waiting):
        client.get(f"/attempts/{entry_id}/invoice", headers=HX)
    assert listed(client, state="paid") == ["paid@example.com"]
    assert listed(client, state="waiting") == ["waiting@example.com"]
    assert listed(client, state="unknown") == []
    assert len(listed(client)) == 3
    page = client.get("/orders?state=waiting").get_data(as_text=True)
    assert "waiting " in page and f"/orders/{waiting}/reminder" in page
    reminder = html.unescape(client.get(f"/orders/{waiting}/reminder").get_data(as_text=True))
    assert f"invoice {bills['waiting@example.com']}" in reminder and "is waiting for payment" in reminder
    assert re.search(rf"/bill/{bills['waiting@example.com']}/", reminder)
    assert client.get(f"/orders/{paid}/reminder", headers=HX).status_code == 200  # whatever the state
    assert client.get("/orders/nothing/reminder").status_code == 404


def test_the_days_of_the_list_begin_at_midnight_in_the_accounts_zone(desk):
    archive = services_of(desk).archive
    now = datetime.now(UTC)
    moscow_midnight = now.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Moscow")).replace(
        hour=0, minute=0, second=0, microsecond=0)
    for entry_id, at in (("today", moscow_midnight + timedelta(seconds=1)),
                         ("yesterday", moscow_midnight - timedelta(seconds=1)),
                         ("lastmonth", moscow_midnight - timedelta(days=40))):
        team_orders.keep(archive, {"id": entry_id, "at": at.isoformat(timespec="seconds"),
                                   "outcome": "created", "operator": "alice",
                                   "sent": {"customer_email": f"{entry_id}@example.com",
                                            "product_names": DIGITAL["good_name"]}})
    client = sign_in(desk.test_client())
    assert listed(client, period="today") == ["today@example.com"]
    week = listed(client, period="week")
    assert "today@example.com" in week and "lastmonth@example.com" not in week
    day = (moscow_midnight - timedelta(seconds=1)).date().isoformat()
    assert listed(client, period="range", **{"from": day, "to": day}) == ["yesterday@example.com"]
    assert listed(client) == ["today@example.com", "yesterday@example.com", "lastmonth@example.com"]


def test_the_list_pages_keep_their_filters_and_export_every_order_they_find(desk):
    archive = services_of(desk).archive
    start = datetime.now(UTC) - timedelta(hours=2)
    for n in range(2 * team_orders.PAGE_SIZE + 10):  # alice's: a page and a few more
        team_orders.keep(archive, {"id": f"o{n:03d}", "at": (start + timedelta(seconds=n)).isoformat(
            timespec="seconds"), "outcome": "created", "operator": "alice" if n % 2 else "bob",
            "sent": {"customer_email": f"c{n:03d}@example.com", "product_names": DIGITAL["good_name"]}})
    client = sign_in(desk.test_client())
    first = client.get("/orders?who=mine").get_data(as_text=True)
    older = re.search(r'<a href="([^"]+)"[^>]*>Older orders</a>', first)
    assert older and "who=mine" in html.unescape(older[1]) and "page=2" in older[1]
    second = client.get(html.unescape(older[1]), headers=HX).get_data(as_text=True)
    assert second.lstrip().startswith('<div id="orders-list">') and "Newer orders" in second  # the list alone
    mine = [f"c{n:03d}@example.com" for n in reversed(range(2 * team_orders.PAGE_SIZE + 10)) if n % 2]
    assert listed(client, who="mine") + listed(client, who="mine", page=2) == mine
    exported = client.get("/orders.csv?who=mine").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [r["customer_email"] for r in rows] == mine
    book = client.get("/orders.xlsx?who=mine")
    assert book.status_code == 200 and book.data[:2] == b"PK"


def test_attempts_older_than_the_retention_are_gone(sandbox_server, tmp_path):
    desk = create_app(desk_config(sandbox_server.url, tmp_path, ORDER_RETENTION_DAYS=2 / 86400))  # 2 s
    client = sign_in(desk.test_client())
    entry_id = send(client, "old@example.com")
    assert listed(client) == ["old@example.com"]
    client.post("/logout")
    sign_in(client)
    deadline = time.monotonic() + 10
    while listed(client) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert listed(client) == []
    assert client.get(f"/attempts/{entry_id}").status_code == 404
