"""Request bodies: no larger than the largest order, whole, and without files."""

import re
from urllib.parse import urlencode

import pytest
from wtforms import BooleanField, DateTimeLocalField, SelectField
from wtforms.validators import Length

from tests.support.desk import OPERATOR, desk_config
from webapp import create_app
from webapp.orders.form import OrderForm
from webapp.web.request_body import MAX_REQUEST_BYTES
from webapp.web.services import services_of

WIDE = "\U0001d11e"  # 4 bytes of UTF-8, 12 once percent-encoded: the most a character can cost


@pytest.fixture
def csrf_client(sandbox_server, tmp_path):
    """Signed in, with CSRF checks on as deployed."""
    client = create_app(desk_config(sandbox_server.url, tmp_path, WTF_CSRF_ENABLED=True)).test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text)[1]
    form = {"username": OPERATOR["username"], "password": OPERATOR["password"], "csrf_token": token}
    assert client.post("/login", data=form).status_code == 303
    return client


def largest_order(app) -> dict:
    """Every field of the order form at its longest, 100 product lines, a long paste and tokens."""
    order = {"csrf_token": "x" * 100, "submission_token": "x" * 43, "confirm": "x" * 12,
             "paste_text": WIDE * 2000}
    with app.test_request_context():
        form = OrderForm(formdata=None, meta={"csrf": False})
    for field in form:
        if field.name == "products":
            for line in range(field.max_entries):
                order[f"products-{line}-good_name"] = WIDE * 100
                order[f"products-{line}-price"] = "99 999 999,99"
        elif isinstance(field, SelectField):
            order[field.name] = max((choice.value for choice in field.choices), key=len)
        elif isinstance(field, DateTimeLocalField):
            order[field.name] = "2026-01-01T00:00:00"
        elif isinstance(field, BooleanField):
            order[field.name] = "y"
        elif field.name == "order_ip":
            order[field.name] = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
        elif field.name not in order:
            longest = max(v.max for v in field.validators if isinstance(v, Length))
            order[field.name] = WIDE * longest
    return order


def test_the_largest_real_order_fits_the_body_limit_twice(app):
    size = len(urlencode(largest_order(app)).encode())
    assert 200_000 < size <= MAX_REQUEST_BYTES // 2, size


def test_the_largest_real_order_is_read_and_judged(client, sandbox_server):
    order = largest_order(client.application)  # with a token issued to the operator, as long as any
    order["submission_token"] = services_of(client.application).tokens.new(OPERATOR["username"])
    response = client.post("/", data=order)
    assert response.status_code == 422  # read whole and judged field by field (4-byte email and all)
    assert "At most" not in response.get_data(as_text=True)  # every field within its limit
    assert sandbox_server.book.all() == []


def test_a_larger_body_gets_a_clear_413_page_htmx_or_not(client, anonymous, sandbox_server):
    order = {"customer_email": "big@example.com", "products-0-good_name": "digital",
             "note": "n" * MAX_REQUEST_BYTES}
    for who in (client, anonymous):
        page = who.post("/", data=order)
        assert page.status_code == 413
        assert "larger than any order can be" in page.get_data(as_text=True)
        assert '<html' in page.get_data(as_text=True)
        partial = who.post("/", data=order, headers={"HX-Request": "true"})
        assert partial.status_code == 413 and partial.headers["HX-Retarget"] == "#alerts"
        assert "larger than any order can be" in partial.get_data(as_text=True)
        assert "<html" not in partial.get_data(as_text=True)
    login = anonymous.post("/login", data={"username": OPERATOR["username"],
                                           "password": "p" * MAX_REQUEST_BYTES})
    assert login.status_code == 413
    assert sandbox_server.book.all() == []


def test_a_file_where_text_belongs_is_refused_not_a_500(client, sandbox_server):
    from io import BytesIO

    order = {"customer_email": "file@example.com", "products-0-good_name": "digital",
             "note": (BytesIO(b"a note in a file"), "note.txt")}
    response = client.post("/", data=order, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "takes no files" in response.get_data(as_text=True)
    login = client.application.test_client().post(
        "/login", data={"username": (BytesIO(b"alice"), "u.txt"), "password": "x"},
        content_type="multipart/form-data")
    assert login.status_code == 400
    assert sandbox_server.book.all() == []



def test_a_form_that_is_not_utf8_is_said_to_be_unreadable_not_expired(csrf_client, sandbox_server):
    body = b"customer_email=a%40example.com&customer_first_name=" + "Пётр".encode("cp1251")
    response = csrf_client.post("/", data=body, content_type="application/x-www-form-urlencoded")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "did not arrive as UTF-8" in page and "typed is below" not in page
    assert sandbox_server.book.all() == []


def test_a_form_posted_over_https_without_a_referer_says_so(csrf_client, sandbox_server):
    https = {"X-Forwarded-Proto": "https"}  # behind the router, which terminates TLS
    page = csrf_client.get("/", headers=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    order = {"csrf_token": token, "customer_email": "a@example.com", "customer_first_name": "Мария",
             "products-0-good_name": "digital"}
    response = csrf_client.post("/", data=order, headers=https)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Referer" in page and "had expired" not in page and 'value="Мария"' in page
    cleared = csrf_client.post("/history/clear", data={"csrf_token": token}, headers=https)
    assert "Referer" in cleared.get_data(as_text=True)
    assert sandbox_server.book.all() == []
