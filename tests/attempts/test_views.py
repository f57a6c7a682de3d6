"""The history and attempt pages in a blueprint of their own; the list and the CSV show each order's
invoice, payment link and payment status."""

import csv
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
