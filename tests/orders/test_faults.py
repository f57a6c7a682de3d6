"""Faults survived: JustClick misbehaving in every way, and Redis going away while the desk runs.

In every case: no 500 page, the operator's input kept, and no duplicate createorder.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import redis
from werkzeug.wrappers import Response

from tests.support.desk import API_KEY, GIVES_UP_SOON, carries_secret, desk_config, free_port, sign_in
from webapp import create_app
from webapp.justclick.client import MAX_REPLY_BYTES
from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS, SEED_MANAGERS
from webapp.web.services import services_of

ORDER = {"customer_email": "fault@example.com", "customer_first_name": "Вера",
         "products-0-good_name": "digital"}
LISTS = {"getgoods": [{k: g[k] for k in ("id", "good_name", "good_title")} for g in SEED_GOODS],
         "getcoupons": SEED_COUPONS, "getpersonalmanagers": SEED_MANAGERS}


def envelope(result=(), code=0, text="OK"):
    return json.dumps({"error_code": code, "error_text": text, "result": list(result), "hash": "0" * 32})


def answer_lists(httpserver):
    """The lists answer normally (without catalogue prices: GetAllGoods is refused)."""
    for method, items in LISTS.items():
        httpserver.expect_request(f"/api/{method}").respond_with_data(envelope(items))
    httpserver.expect_request("/api/GetAllGoods").respond_with_data(envelope(code=4, text="Wrong hash"))
    return httpserver


@pytest.fixture
def upstream(httpserver):
    """A JustClick whose lists answer normally; each test decides what createorder does."""
    return answer_lists(httpserver)


def desk_client(url, tmp_path, **config):
    return sign_in(create_app(desk_config(url, tmp_path, **config)).test_client())


def createorder_calls(httpserver):
    return sum(1 for request, _ in httpserver.log if request.path == "/api/createorder")


@pytest.mark.parametrize("reply, words", [
    (Response("<html><body><h1>500 Internal Server Error</h1></body></html>", 500, mimetype="text/html"),
     "HTML page"),
    (Response('{"error_code": 0, "error_', 200, mimetype="application/json"), "not JSON"),
    (Response(b"x" * (MAX_REPLY_BYTES + 1), 200, mimetype="application/json"), "larger than 5 MB"),
    (Response(envelope(code=8, text="Request limit exhausted"), 200), "Error 8"),
])
def test_createorder_misbehaving(upstream, tmp_path, reply, words):
    upstream.expect_request("/api/createorder").respond_with_response(reply)
    response = desk_client(upstream.url_for("/api/"), tmp_path).post("/", data=ORDER)
    page = response.get_data(as_text=True)
    assert response.status_code in (422, 502)
    assert words in page and 'value="Вера"' in page and 'id="order-form"' in page
    assert createorder_calls(upstream) == 1


def test_connection_refused_sends_nothing_and_keeps_input(tmp_path):
    response = desk_client(f"http://127.0.0.1:{free_port()}/api/", tmp_path).post("/", data=ORDER)
    page = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "could not be reached" in page and 'value="Вера"' in page


def test_a_slow_list_during_a_submit_does_not_hold_the_order(upstream, tmp_path):
    upstream.clear()
    late = GIVES_UP_SOON["JUSTCLICK_TIMEOUT"] + 1
    upstream.expect_request("/api/getgoods").respond_with_handler(
        lambda request: (time.sleep(late), Response(envelope(LISTS["getgoods"])))[1])
    for method in ("getcoupons", "getpersonalmanagers"):
        upstream.expect_request(f"/api/{method}").respond_with_data(envelope(LISTS[method]))
    upstream.expect_request("/api/GetAllGoods").respond_with_data(envelope(code=4, text="Wrong hash"))
    upstream.expect_request("/api/createorder").respond_with_data(envelope())
    client = desk_client(upstream.url_for("/api/"), tmp_path, **GIVES_UP_SOON)
    response = client.post("/", data=ORDER)  # goods time out: the typed product id is accepted
    assert response.status_code == 303
    assert createorder_calls(upstream) == 1
    assert "Products could not be loaded" in client.get("/").get_data(as_text=True)


def key_spellings(key: str) -> dict:
    """Every way the desk or a PHP JustClick could write the key back."""
    php = quote_plus(key, safe="").replace("~", "%7E")  # what the desk sends
    return {
        "as is": key,
        "quote": quote(key),
        "quote_plus": quote_plus(key, safe=""),
        "as the desk encodes it": php,
        "lowercase hex": re.sub(r"%[0-9A-F]{2}", lambda code: code[0].lower(), php),
        "PHP json_encode": key.replace("/", "\\/"),
        "every character \\u-escaped": "".join(f"\\u{ord(c):04x}" for c in key),
        "upper-case \\u escapes": "".join(f"\\u{ord(c):04X}" if not c.isalnum() else c for c in key),
        "mixed": php.replace("-", "\\u002d").replace("%2F", "\\/"),
    }


@pytest.mark.parametrize("how, spelled", key_spellings(API_KEY).items())
def test_a_reply_echoing_the_key_in_any_spelling_reaches_no_page_history_csv_or_log(
        upstream, tmp_path, caplog, how, spelled):
    reply = '{"error_code": 3, "error_text": "Invalid data: rpsKey=' + spelled + '", "result": []}'
    upstream.expect_request("/api/createorder").respond_with_data(reply, content_type="application/json")
    client = desk_client(upstream.url_for("/api/"), tmp_path)
    page = client.post("/", data=ORDER).get_data(as_text=True)
    assert "Invalid data: rpsKey=[rpsKey]" in page
    stored = "".join(path.read_text() for path in Path(tmp_path, "instance", "history").rglob("*.json"))
    assert "[rpsKey]" in stored
    csv = client.get("/history.csv").get_data(as_text=True)
    for where, text in {"page": page, "history": stored, "csv": csv, "log": caplog.text}.items():
        assert not carries_secret(text, [API_KEY]), where


@contextmanager
def redis_process(port, folder, persist=True):
    """A redis-server that can go away and come back: with its data kept on disk, or empty.
    Yields its process."""
    keep = ["--appendonly", "yes", "--appendfsync", "always"] if persist else ["--appendonly", "no"]
    process = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         *keep, "--save", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(500):
        assert process.poll() is None, f"redis-server on port {port} stopped at once (the port taken?)"
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.02)
    # The server answering is this one, not another that had the port: the test stops and starts it.
    assert client.info("server")["process_id"] == process.pid
    client.close()
    try:
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.usefixtures("redis_server")  # skips or fails like the other Redis tests when it is missing
def test_redis_going_away_and_coming_back(sandbox_server, tmp_path):
    port, folder = free_port(), tmp_path / "redis"
    folder.mkdir()
    client = None
    with redis_process(port, folder):
        # PROPAGATE_EXCEPTIONS off, as in production: failures outside views get the error pages
        client = desk_client(sandbox_server.url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0",
                             PROPAGATE_EXCEPTIONS=False)
        assert client.post("/", data=ORDER).status_code == 303
    # Redis is gone: a clear page, not a 500, and no order is sent
    for response in (client.get("/"), client.post("/", data={**ORDER, "customer_email": "b@example.com"}),
                     client.get("/history", headers={"HX-Request": "true"})):
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page[:500]
        assert "cannot reach its shared store" in page
    assert len(sandbox_server.book.all()) == 1
    with redis_process(port, folder):
        history = client.get("/history").get_data(as_text=True)
        assert "fault@example.com" in history  # the confirmed entry survived
        assert client.post("/", data={**ORDER, "customer_email": "c@example.com"}).status_code == 303
    assert len(sandbox_server.book.all()) == 2


class FailingOn:
    """A store that works but for one method, which raises: a disk filling up, Redis blinking."""

    def __init__(self, store, method: str, error: Exception):
        self.store, self.method, self.error = store, method, error

    def __getattr__(self, name):
        if name == self.method:
            def fail(*args, **kwargs):
                raise self.error
            return fail
        return getattr(self.store, name)


def test_the_outcome_is_shown_even_when_the_history_cannot_keep_it(sandbox_server, tmp_path):
    app = create_app(desk_config(sandbox_server.url, tmp_path))
    # the attempt is recorded before sending; then the disk fills up before its outcome is written
    services_of(app).history = FailingOn(services_of(app).history, "update",
                                                OSError(28, "No space left on device"))
    response = sign_in(app.test_client()).post("/", data=ORDER)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Order created" in page and "could not be kept in the history" in page
    assert "fault@example.com" in page
    assert len(sandbox_server.book.all()) == 1


def test_an_archive_that_cannot_take_the_attempt_means_nothing_is_sent_and_the_history_says_so(
        sandbox_server, tmp_path):
    """The session's history took the "sending" record, the team's archive did not: nothing is sent,
    and the history says "not sent" rather than keep a "sending" that never went out."""
    app = create_app(desk_config(sandbox_server.url, tmp_path))
    archive = services_of(app).archive
    services_of(app).archive = FailingOn(archive, "put", OSError(28, "No space left on device"))
    client = sign_in(app.test_client())
    response = client.post("/", data=ORDER)
    assert response.status_code == 503 and sandbox_server.book.all() == []
    services_of(app).archive = archive
    history = client.get("/history?outcome=sending").get_data(as_text=True)
    assert "fault@example.com" not in history
    assert "fault@example.com" in client.get("/history?outcome=not_sent").get_data(as_text=True)
