"""Responses travel compressed when the browser accepts it: brotli, else gzip; tiny bodies as they are."""

import gzip
import re

import brotli
import pytest
from flask import Response

from tests.support.desk import desk_config
from webapp import create_app

DECODE = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda body: body}
CHROMIUM = "gzip, deflate, br, zstd"  # what Debian's chromium sends
HIDDEN = re.compile(rb'<input[^>]*type="hidden"[^>]*>')


def without_tokens(page: bytes) -> bytes:
    """The page minus its hidden inputs: the CSRF and submission tokens differ on every load."""
    return HIDDEN.sub(b"<input hidden>", page)


@pytest.mark.parametrize(("accepted", "encoding"), [
    (CHROMIUM, "br"),
    ("gzip, deflate", "gzip"),
    ("br;q=0.5, gzip", "gzip"),
    ("identity", None),
    ("", None),
])
def test_the_order_page_is_compressed_as_the_browser_asks(client, accepted, encoding):
    plain = client.get("/")
    response = client.get("/", headers={"Accept-Encoding": accepted})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"] and "HX-Request" in response.headers["Vary"]
    body = DECODE[encoding](response.get_data())
    assert without_tokens(body) == without_tokens(plain.get_data())
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    if encoding:
        assert len(response.get_data()) < len(body) / 4  # a 40 KB form is mostly repetition


def test_htmx_partials_are_compressed_too(client):
    data = {"customer_email": "", "products-0-good_name": "digital", "action": "stay"}  # Enter in a field
    response = client.post("/", data=data, headers={"HX-Request": "true", "Accept-Encoding": CHROMIUM})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    page = brotli.decompress(response.get_data()).decode()
    assert "<html" not in page and 'id="order-form"' in page


def test_tiny_bodies_are_sent_as_they_are(client):
    response = client.get("/healthz", headers={"Accept-Encoding": CHROMIUM})
    assert response.get_json()["status"] == "ok"
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]  # a cache must still keep the variants apart


def test_the_history_csv_arrives_compressed_and_opens_as_the_same_file(client):
    client.post("/", data={"customer_email": "ivan@example.com", "products-0-good_name": "digital"})
    plain = client.get("/history.csv")
    response = client.get("/history.csv", headers={"Accept-Encoding": CHROMIUM})
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Content-Disposition"] == plain.headers["Content-Disposition"]
    assert brotli.decompress(response.get_data()) == plain.get_data()
    assert plain.get_data().startswith("\ufeff".encode())


def test_a_streamed_body_is_never_compressed(sandbox_server, tmp_path):
    """A body sent as it is produced must reach the browser piece by piece, not once compressed whole."""
    app = create_app(desk_config(sandbox_server.url, tmp_path))
    app.add_url_rule("/stream-probe", "stream_probe",
                     lambda: Response((f"line {i}\n" * 100 for i in range(50)), mimetype="text/plain"))
    client = app.test_client()
    client.post("/login", data={"username": "alice", "password": "correct horse 7"})
    response = client.get("/stream-probe", headers={"Accept-Encoding": CHROMIUM})
    assert response.status_code == 200 and response.is_streamed
    assert "Content-Encoding" not in response.headers
    assert response.get_data().startswith(b"line 0\n")


TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|"csrf_token": "([^"]+)"')


def tokens_of(page: bytes) -> set[bytes]:
    return {a or b for a, b in TOKEN.findall(page)}


def shared_run(first: bytes, second: bytes, length: int = 6) -> bytes | None:
    """A run of `length` bytes found in both tokens: what a BREACH guess could build on."""
    runs = {first[i:i + length] for i in range(len(first) - length + 1)}
    return next((second[i:i + length] for i in range(len(second) - length + 1)
                 if second[i:i + length] in runs), None)


@pytest.mark.parametrize("url", ["/?customer_email=guess%40example.com&note=csrf", "/login?next=/history"])
def test_a_compressed_page_that_echoes_the_query_never_repeats_its_csrf_token(app, client, url):
    """Two responses in the same second share no run of the token: it is masked afresh each time,
    though within one page its repeats are one value (and still compress)."""
    who = client if url.startswith("/?") else app.test_client()
    pages = [DECODE["br"](who.get(url, headers={"Accept-Encoding": CHROMIUM}).get_data()) for _ in range(2)]
    first, second = (tokens_of(page) for page in pages)
    assert len(first) == len(second) == 1, (first, second)  # one value per response
    assert shared_run(first.pop(), second.pop()) is None


def test_a_masked_token_is_accepted_as_the_token(sandbox_server, tmp_path):
    """Posted back, whether in the form or in htmx's header, the masked token is the real one."""
    desk = create_app(desk_config(sandbox_server.url, tmp_path, WTF_CSRF_ENABLED=True)).test_client()
    page = desk.get("/login").get_data()
    [token] = tokens_of(page)
    form = {"username": "alice", "password": "correct horse 7", "csrf_token": token.decode()}
    assert desk.post("/login", data=form).status_code == 303
    [token] = tokens_of(desk.get("/history/clear").get_data())
    assert desk.post("/history/clear", data={"csrf_token": token.decode()}).status_code == 303
    [token] = tokens_of(desk.get("/history/clear").get_data())
    assert desk.post("/history/clear", headers={"X-CSRFToken": token.decode()}).status_code == 303
    tampered = ("y" if token.startswith(b"x") else "x") + token.decode()[1:]  # one character, changed
    assert desk.post("/history/clear", data={"csrf_token": tampered}).status_code == 400
