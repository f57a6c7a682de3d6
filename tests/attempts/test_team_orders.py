"""The team's Orders page over HTTP with the stand-in: every operator's orders outlive their sessions,
found by name, phone or invoice, filtered by who, payment state and day, paged, exported."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.security import generate_password_hash

from tests.support.desk import OPERATOR, TEAM_USERS, Counted, answering, desk_config, serve, sign_in
from webapp import create_app
from webapp.attempts import status_refresh, team_orders
from webapp.attempts.team_views import notification_secret
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
    assert listed(client, q="nobody") == [] and listed(client, q="%") == [] and listed(client, q="_") == []
    # The filters' own marks (operator, payment state, invoice) are not found by what is typed.
    assert listed(client, q="alice") == listed(client, q="wait") == listed(client, q="state") == []
    assert listed(client, q=" ".join("о" * 100)) == ["olga@example.com", "pavel@example.com"]  # hostile: long
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
    # A paid invoice's row no longer offers a reminder, and its address (an older page's) says why.
    assert f"/orders/{paid}/reminder" not in client.get("/orders").get_data(as_text=True)
    late = html.unescape(client.get(f"/orders/{paid}/reminder", headers=HX).get_data(as_text=True))
    assert f"Invoice {bills['paid@example.com']} is paid" in late and "waiting for payment" not in late
    assert "<textarea" not in late
    assert client.get("/orders/nothing/reminder").status_code == 404


def test_an_unknown_outcome_is_listed_with_the_way_to_settle_it(desk):
    client = sign_in(desk.test_client())
    made = send(client, "anna@example.com")
    client.post("/", data={"customer_email": "broken@sandbox.test",  # accepted, its reply cut short
                           "products-0-good_name": DIGITAL["good_name"]})
    assert listed(client, state="unknown") == ["broken@sandbox.test"]
    page = html.unescape(client.get("/orders?state=unknown").get_data(as_text=True))
    settle = re.search(r'<a href="(/attempts/\w+)" class="settle">Look it up or settle it', page)
    assert settle and f"{settle[1]}/invoice" in client.get(settle[1]).get_data(as_text=True)  # it looks
    assert "Unknown: check in JustClick" in page
    # Every row has the place a refresh takes a reminder from, one shown or not (a row drawn before its
    # invoice was found has none, and its invoice may be found and paid while the page is open).
    rows = re.findall(r'<tr id="attempt-(\w+)"', page)
    assert rows and all(f'id="reminder-box-{row}"' in page for row in rows)
    assert 'class="settle"' not in client.get("/orders?state=waiting").get_data(as_text=True)
    assert made


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
    desk = create_app(desk_config(sandbox_server.url, tmp_path, ORDER_RETENTION_DAYS=30 / 86400))  # 30 s
    made_long_ago = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    old = {"id": "0ld0ld0ld0ld", "at": made_long_ago, "outcome": "created", "operator": "bob",
           "sent": {"customer_email": "old@example.com"}}
    team_orders.keep(services_of(desk).archive, old)
    client = sign_in(desk.test_client())
    send(client, "new@example.com")
    client.post("/logout")
    sign_in(client)  # another session: only the team's archive has either
    assert listed(client) == ["new@example.com"]
    assert client.get("/attempts/0ld0ld0ld0ld").status_code == 404


# --- payment statuses kept fresh -----------------------------------------------------------------------

REFRESH = re.compile(r'<div id="orders-refresh" hx-post="/orders/refresh"[^>]*hx-vals=\'([^\']*)\'')


def refresh(client, page: str):
    """What the page's refresher asks, as htmx asks it."""
    import json

    values = json.loads(html.unescape(REFRESH.search(page)[1]))
    return client.post("/orders/refresh", data=values, headers=HX).get_data(as_text=True)


def unpaid_order(client, email: str) -> str:
    entry_id = send(client, email)
    client.get(f"/attempts/{entry_id}/invoice", headers=HX)  # its invoice found: waiting for payment
    return entry_id


@pytest.fixture
def team_desk(shop, tmp_path):
    return create_app(desk_config(shop.url, tmp_path, TEAM_USERS=TEAM))


def test_a_paid_invoice_turns_paid_on_the_pages_next_refresh_without_a_click(team_desk, shop, monkeypatch):
    client = sign_in(team_desk.test_client())
    entry_id = unpaid_order(client, "payer@example.com")
    page = client.get("/orders").get_data(as_text=True)
    assert entry_id in REFRESH.search(page)[1]
    link = re.search(rf'<a id="link-{entry_id}" href="([^"]+)"', page)[1]
    assert requests.post(html.unescape(link), timeout=10).ok  # the customer pays on the payment page
    reads = shop.counted.methods.count("getOrderDetails")
    answer = refresh(client, page)  # checked a moment ago: not due yet
    assert shop.counted.methods.count("getOrderDetails") == reads and "Paid" not in answer
    monkeypatch.setattr(status_refresh, "STATUS_EVERY", timedelta(0))  # as if minutes had passed
    answer = refresh(client, page)
    cell = re.search(rf'<td data-label="Payment" id="payment-{entry_id}" hx-swap-oob="true">.*?</td>', answer,
                     re.S)
    assert cell and "Paid" in cell[0] and shop.counted.methods.count("getOrderDetails") == reads + 1
    # Its reminder goes from the row (the operator must not send a paid customer "please pay").
    assert f'id="reminder-{entry_id}"' in page
    box = re.search(rf'<div id="reminder-box-{entry_id}" hx-swap-oob="true">(.*?)</div>', answer, re.S)
    assert box and "reminder" not in box[1].lower()
    assert REFRESH.search(answer)  # and the next ask
    assert listed(client, state="paid") == ["payer@example.com"]
    assert "orders-refresh" not in client.get("/orders").get_data(as_text=True)  # nothing unpaid to ask for


def test_the_teams_reads_are_counted_together_whoever_asks(team_desk, shop, monkeypatch):
    monkeypatch.setattr(status_refresh, "STATUS_EVERY", timedelta(0))
    alice = sign_in(team_desk.test_client())
    bob = sign_in(team_desk.test_client(), BOB["username"], BOB["password"])
    for n in range(8):
        unpaid_order(alice if n % 2 else bob, f"c{n}@example.com")
    reads = shop.counted.methods.count("getOrderDetails")
    limit = status_refresh.READS_PER_MINUTE.amount
    for client in [alice, bob] * limit:  # two open pages asking, twice as often as the team may read
        refresh(client, client.get("/orders").get_data(as_text=True))
    assert shop.counted.methods.count("getOrderDetails") - reads == limit


def test_justclicks_request_limit_pauses_refreshing_for_everyone(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(status_refresh, "STATUS_EVERY", timedelta(0))
    refusing = {"now": False}

    def wrap(stand_in):
        limit = {"error_code": 8, "error_text": "Limit", "result": []}
        limited = answering(stand_in, "getOrderDetails", limit)
        return lambda environ, start: (limited if refusing["now"] else stand_in)(environ, start)

    counted = Counted(wrap(make_sandbox().app))
    with serve(counted) as root:
        desk = create_app(desk_config(root + "api/", tmp_path, TEAM_USERS=TEAM))
        alice = sign_in(desk.test_client())
        unpaid_order(alice, "anna@example.com")
        page = alice.get("/orders").get_data(as_text=True)
        refusing["now"] = True
        first = refresh(alice, page)
        assert 'hx-trigger="load delay:60s"' in first  # asked to wait: the page asks again in a minute
        reads = counted.methods.count("getOrderDetails")
        bob = sign_in(desk.test_client(), BOB["username"], BOB["password"])
        refresh(bob, bob.get("/orders").get_data(as_text=True))
        assert counted.methods.count("getOrderDetails") == reads  # nobody reads during the pause


def test_a_paid_notification_makes_the_desk_read_that_invoice_and_believe_only_what_it_reads(
        team_desk, shop, caplog):
    client = sign_in(team_desk.test_client())
    entry_id = unpaid_order(client, "notified@example.com")
    bill = shop.book.all()[0]["bill_id"]
    client.post("/logout")
    stranger, secret = team_desk.test_client(), notification_secret(team_desk.config["SECRET_KEY"])
    reads = shop.counted.methods.count("getOrderDetails")
    # Claims that are not read back change nothing: the invoice is still waiting in JustClick.
    told = stranger.post(f"/notify/paid?key={secret}", data={"id": bill, "paid": "2026-12-06 12:00:00",
                                                         "email": "notified@example.com"})
    assert (told.status_code, told.get_data(as_text=True)) == (200, "OK")
    assert shop.counted.methods.count("getOrderDetails") == reads + 1
    assert listed(sign_in(team_desk.test_client()), state="paid") == []
    shop.book.mark_paid(bill)
    stranger.post(f"/notify/paid?key={secret}", data={"id": bill})
    assert listed(sign_in(team_desk.test_client()), state="paid") == ["notified@example.com"]
    reads = shop.counted.methods.count("getOrderDetails")
    for path, data in ((f"/notify/paid?key={'0' * 32}", {"id": bill}),  # a wrong secret
                       (f"/notify/paid?key={secret}", {"id": "999999"}),  # an invoice the desk never made
                       (f"/notify/paid?key={secret}", {"id": "1; DROP TABLE"}),
                       ("/notify/paid?key=ключ", {"id": bill}),  # not ASCII: still just "OK"
                       ("/notify/paid", {"id": bill})):
        answer = stranger.post(path, data=data)
        assert (answer.status_code, answer.get_data(as_text=True)) == (200, "OK")  # alike, whatever sent
    assert shop.counted.methods.count("getOrderDetails") == reads
    assert secret not in caplog.text and "notified@example.com" not in caplog.text
    assert "path=/notify/paid " in caplog.text  # the route, without the key its query string carries
    assert entry_id


def test_justclick_needs_no_form_token_to_notify_and_nobody_else_gets_in_without_one(shop, tmp_path):
    desk = create_app(desk_config(shop.url, tmp_path, TEAM_USERS=TEAM, WTF_CSRF_ENABLED=True))
    stranger, secret = desk.test_client(), notification_secret(desk.config["SECRET_KEY"])
    answer = stranger.post(f"/notify/paid?key={secret}", data={"id": "1001"})
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "OK")
    assert stranger.post("/orders/refresh", data={"ids": "x"}).status_code in (302, 303)  # to sign in
    assert stranger.get("/orders").status_code in (302, 303)


def test_paid_notifications_are_rate_limited(team_desk):
    stranger, secret = team_desk.test_client(), notification_secret(team_desk.config["SECRET_KEY"])
    answers = [stranger.post(f"/notify/paid?key={secret}", data={"id": "1"}).status_code for _ in range(61)]
    assert answers[:60] == [200] * 60 and answers[60] == 429


def test_the_last_30_days_count_orders_and_payments_per_day_and_operator(team_desk, shop):
    alice = sign_in(team_desk.test_client())
    bob = sign_in(team_desk.test_client(), BOB["username"], BOB["password"])
    paid = unpaid_order(alice, "paid@example.com")
    unpaid_order(bob, "waiting@example.com")
    alice.post("/", data={"customer_email": "error-602@sandbox.test",  # refused: not an order
                          "products-0-good_name": DIGITAL["good_name"]})
    bill = next(o["bill_id"] for o in shop.book.all() if o["params"]["customer_email"] == "paid@example.com")
    shop.book.mark_paid(bill)
    alice.post(f"/attempts/{paid}/invoice", headers=HX)  # its status read afresh: paid
    page = alice.get("/orders").get_data(as_text=True)
    assert 'hx-get="/orders/chart" hx-trigger="load"' in page  # asked for once the list is shown
    chart = html.unescape(alice.get("/orders/chart").get_data(as_text=True)).replace("\xa0", " ")
    assert "<h1>Team orders</h1>" in chart  # a page of its own without JavaScript
    assert re.search(r'id="chart-summary">2 orders made, 1 of them paid: RUB [\d,.]+\.', chart), chart
    operators = re.search(r'<table class="by-operator">.*?</table>', chart, re.S)[0]
    assert re.search(r"Alice Smith</th><td class=\"num\">1</td><td class=\"num\">1</td>", operators)
    assert re.search(r"Bob Brown</th><td class=\"num\">1</td><td class=\"num\">0</td>", operators)
    assert len(re.findall(r"<g><title>", chart)) == 30 and chart.count('class="paid"') == 1
