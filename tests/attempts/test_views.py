"""The history and attempt pages in a blueprint of their own; the list and the CSV show each order's
invoice, payment link and payment status."""

import csv
import html
import io
import re

import pytest
import requests

from tests.support.desk import desk_config
from webapp import create_app
from webapp.attempts import history

HX = {"HX-Request": "true"}
ORDER = {"customer_email": "pavel@example.com", "customer_first_name": "Павел",
         "products-0-good_name": "digital"}


@pytest.fixture
def app(shop, tmp_path):
    """The desk against a stand-in that counts the API methods it is asked."""
    return create_app(desk_config(shop.url, tmp_path))


def test_history_and_attempt_pages_have_their_own_blueprint(app):
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    assert {rule: endpoints[rule] for rule in (
        "/history", "/history/panel", "/history.csv", "/history/clear", "/attempts/<entry_id>",
        "/attempts/<entry_id>/invoice", "/attempts/<entry_id>/payment-status")} == {
        "/history": "history.page", "/history/panel": "history.panel", "/history.csv": "history.csv",
        "/history/clear": "history.clear", "/attempts/<entry_id>": "history.attempt",
        "/attempts/<entry_id>/invoice": "history.invoice",
        "/attempts/<entry_id>/payment-status": "history.payment_status"}
    # The order page's blueprint keeps the order page only.
    assert {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("orders.")} == {
        "orders.new_order", "orders.submit", "orders.summary", "orders.product_search",
        "orders.phone_reading"}


def test_every_page_links_to_the_moved_pages(client):
    client.post("/", data=ORDER)
    for path in ("/", "/history", "/history/clear"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/history"' in page, path
    listed = client.get("/history").get_data(as_text=True)
    entry_id = re.search(r'href="/attempts/([0-9a-f]{12})"', listed)[1]
    assert client.get(f"/attempts/{entry_id}").status_code == 200
    assert client.post("/history/clear").headers["Location"] == "/history"


@pytest.fixture
def found(client, shop):
    """An order created, its invoice found by the attempt's invoice region."""
    location = client.post("/", data=ORDER).headers["Location"]
    entry_id = location.rsplit("/", 1)[1]
    region = client.get(f"/attempts/{entry_id}/invoice", headers=HX).get_data(as_text=True)
    [order] = shop.book.all()
    number = str(order["bill_id"])
    assert f"Invoice {number}" in region
    link = re.search(r'id="invoice-link" href="([^"]+)"', region)[1]
    return entry_id, number, link


def test_the_list_shows_invoice_number_payment_link_and_status(client, found):
    entry_id, number, link = found
    page = client.get("/history").get_data(as_text=True)
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?/attempts/{entry_id}".*?</tr>', page, re.S)[0]
    assert number in row and f'href="{link}"' in row
    assert "Waiting for payment" in row


def test_the_csv_has_stable_invoice_columns(client, found):
    entry_id, number, link = found
    client.post("/", data={**ORDER, "customer_email": "error-602@sandbox.test"})
    exported = client.get("/history.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.removeprefix("\ufeff"))))
    assert list(rows[0])[:12] == ["time", "operator", "outcome", "code", "text", "invoice_number",
                                  "amount_to_pay", "payment_status", "payment_link", "status_checked_at",
                                  "resolved_from", "resolved_at"]
    refused, created = rows
    assert created["invoice_number"] == number and created["payment_link"] == link
    assert created["amount_to_pay"] == "990.00" and created["payment_status"] == "Waiting for payment"
    assert created["status_checked_at"] and created["resolved_from"] == created["resolved_at"] == ""
    assert refused["invoice_number"] == refused["payment_link"] == refused["payment_status"] == ""


def test_the_csv_names_the_invoice_a_601_reply_gave():
    entry = {"at": "2026-01-01T10:00:00+00:00", "operator": "alice", "outcome": "exists", "code": 601,
             "text": "Order already exists", "sent": {"customer_email": "a@example.com"}, "bill_id": "10452"}
    [row] = csv.DictReader(io.StringIO(history.to_csv([entry]).removeprefix("\ufeff")))
    assert row["invoice_number"] == "10452" and row["payment_link"] == ""


def test_the_attempt_view_shows_the_kept_invoice_without_asking_again(client, found, shop):
    entry_id, number, link = found
    requests.post(link, timeout=5)  # paid meanwhile: a view without a call still says what was kept
    before = list(shop.counted.methods)
    page = client.get(f"/attempts/{entry_id}").get_data(as_text=True)
    assert shop.counted.methods == before
    assert f"Invoice {number}" in page and "Waiting for payment" in page
    assert "Refresh status" in page


def test_the_history_page_asks_justclick_nothing_while_it_renders(shop, client):
    location = client.post("/", data=ORDER).headers["Location"]
    entry_id = location.rsplit("/", 1)[1]
    client.get(f"/attempts/{entry_id}/invoice", headers=HX)
    before = list(shop.counted.methods)
    page = client.get("/history").get_data(as_text=True)
    assert shop.counted.methods == before
    # Each unpaid order's status is refreshed by its own small request, after the page is shown.
    status = re.search(rf'<span id="pay-{entry_id}"[^>]*>', page)[0]
    assert f'hx-get="/attempts/{entry_id}/payment-status"' in status and "intersect once" in status


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr[^>]*>\s*<td data-label.*?</tr>", html.unescape(page).replace("\xa0", " "), re.S)


def test_the_history_names_customers_and_products_by_name_with_amounts(client):
    client.post("/", data={**ORDER, "customer_last_name": "Орлов", "products-0-price": "1 200"})
    [row] = _rows(client.get("/history").get_data(as_text=True))
    assert "Павел Орлов" in row and "pavel@example.com" in row
    assert "Digital product" in row and "<code>digital</code>" not in row
    assert "RUB 1,200.00" in row  # what was sent, until the invoice says what is to pay
    panel = html.unescape(client.get("/history/panel").get_data(as_text=True))
    assert "Павел Орлов" in panel and "pavel@example.com" in panel and "Digital product" in panel


@pytest.mark.parametrize("query", ["павел", "PAVEL@EXAMPLE", "8 (912) 345-67-89", "912 345", "Digital prod",
                                   "invoice"])
def test_the_history_finds_an_order_by_name_email_phone_invoice_or_product(client, shop, query):
    location = client.post("/", data={**ORDER, "customer_phone": "+7 912 345-67-89"}).headers["Location"]
    client.get(f"{location}/invoice", headers=HX)  # its invoice found
    client.post("/", data={"customer_email": "anna@example.com", "customer_first_name": "Анна",
                           "customer_phone": "+7 999 000-11-22", "products-0-good_name": "mentor-session"})
    if query == "invoice":
        query = str(max(order["bill_id"] for order in shop.book.all()
                        if "pavel" in order["params"]["customer_email"]))
    listed = client.get("/history", query_string={"q": query}, headers=HX).get_data(as_text=True)
    assert "pavel@example.com" in listed and "anna@example.com" not in listed
    mixed = client.get("/history", query_string={"q": "анна 912"}, headers=HX).get_data(as_text=True)
    assert "pavel@example.com" not in mixed  # words and digits: every word must match, not the phone
    nothing = client.get("/history", query_string={"q": "nobody-like-this"}, headers=HX)
    assert "No attempt matches" in nothing.get_data(as_text=True)


def test_the_history_asks_justclick_nothing_for_product_titles(shop, tmp_path):
    """Titles come from the lists as kept; a history shown before any list was read shows the slugs."""
    from tests.support.desk import sign_in
    client = sign_in(create_app(desk_config(shop.url, tmp_path)).test_client())
    before = list(shop.counted.methods)
    client.get("/history")
    assert shop.counted.methods == before


@pytest.mark.parametrize("stored", [
    {"sent": "not a dict"}, {"sent": {"customer_first_name": 5, "product_names": None, "product_prices": 7}},
    {"invoice": "x", "catalogue_prices": [1]}, {"invoice": {"sum_to_pay": "abc"}},
])
def test_the_lists_and_the_search_survive_any_stored_attempt(client, stored):
    cookie = f"session={client.get_cookie('session').value}"
    with client.application.test_request_context(headers={"Cookie": cookie}):  # this client's history
        entry = history.new_entry(outcome="created", sent={"customer_email": "a@b.co"}, reply={})
        entry.update(stored)
        history._store().append(history.history_id(), entry, 100)
    for path in ("/history", "/history?q=a", "/history?q=912345", "/history/panel", "/"):
        assert client.get(path).status_code == 200, path
