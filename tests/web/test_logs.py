"""Logs: a key=value line per request and per upstream call, one request id through both."""

import io
import logging
import re

import pytest

from tests.support.desk import OPERATOR
from webapp.web.logs import FORMAT, OneLineFormatter, RequestContextFilter
from webapp.web.services import services_of


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(FORMAT))
    handler.addFilter(RequestContextFilter())
    logging.getLogger().addHandler(handler)
    yield lambda: stream.getvalue().splitlines()
    logging.getLogger().removeHandler(handler)


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{16}", first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_tame_incoming_request_id_is_kept_and_a_wild_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "router-abc-123"}).headers["X-Request-ID"] == \
        "router-abc-123"
    wild = client.get("/healthz", headers={"X-Request-ID": "id with spaces=forged"}).headers["X-Request-ID"]
    assert " " not in wild and "forged" not in wild


def test_request_and_upstream_lines_share_the_request_id_and_hold_no_customer_data(client, log_lines):
    response = client.post("/", data={"customer_email": "private.person@example.com",
                                      "customer_first_name": "Секрет", "products-0-good_name": "digital"})
    request_id = response.headers["X-Request-ID"]
    lines = [line for line in log_lines() if f"request_id={request_id}" in line]
    request_lines = [line for line in lines if " request method=" in line]
    upstream = [line for line in lines if "justclick createorder" in line]
    assert len(request_lines) == 1
    assert f"operator={OPERATOR['username']}" in request_lines[0]
    assert "method=POST path=/ status=303 ms=" in request_lines[0]
    assert len(upstream) == 1 and "http=200 code=0" in upstream[0] and "products=digital" in upstream[0]
    text = "\n".join(log_lines())
    assert "private.person" not in text and "Секрет" not in text


def test_catalog_calls_made_in_threads_keep_the_request_id(client, log_lines, app):
    services_of(app).catalog.REFRESH_WINDOW = 0  # both refreshes below reach the stand-in
    services_of(app).catalog.get(refresh=True)  # outside a request: no id
    response = client.post("/", data={"action": "refresh", "customer_email": "x@example.com"})
    request_id = response.headers["X-Request-ID"]
    list_lines = [line for line in log_lines() if "justclick getgoods" in line]
    assert any(f"request_id={request_id}" in line for line in list_lines)
    assert any("request_id=-" in line for line in list_lines)
