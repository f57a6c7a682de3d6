"""One order, one invoice: the attempt is recorded before it is sent, the guard sees the whole team.

Each test drives a fault that once made a second invoice (two tabs, a killed worker, another
session, Redis stopping, a store failing, a 601 reply, the rate limiter) and counts the
`createorder` calls that reach the stand-in: exactly one, and the operator is told the truth.
"""

import json
import os
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.security import generate_password_hash
from werkzeug.wrappers import Response

from tests.orders.test_faults import FailingOn, answer_lists, envelope, redis_process
from tests.support.desk import OPERATOR, TEAM_USERS, desk_config, free_port, serve, sign_in, timeouts_of
from tests.system.test_gunicorn import form_tokens, gunicorn, signed_in
from webapp import create_app
from webapp.web.services import services_of

ORDER = {"customer_email": "once@example.com", "customer_first_name": "Ольга",
         "products-0-good_name": "digital"}
COLLEAGUE = {"username": "boris", "password": "another horse 8", "name": "Boris Petrov"}
TEAM = {**TEAM_USERS, COLLEAGUE["username"]: {
    "password_hash": generate_password_hash(COLLEAGUE["password"]), "name": COLLEAGUE["name"]}}


class GatedJustClick:
    """A JustClick whose createorder waits at a gate: the test acts while the call is in flight."""

    def __init__(self, httpserver, reply=None):
        self.server = httpserver
        self.arrived, self.gate = threading.Event(), threading.Event()
        self.on_arrival = lambda: None
        self.reply = reply or Response(envelope())
        answer_lists(httpserver)
        httpserver.expect_request("/api/createorder").respond_with_handler(self._createorder)

    def _createorder(self, request):
        self.arrived.set()
        self.on_arrival()
        self.gate.wait(30)
        return self.reply

    @property
    def url(self):
        return self.server.url_for("/api/")

    @property
    def calls(self):
        return sum(1 for request, _ in self.server.log if request.path == "/api/createorder")

    def open(self):
        self.gate.set()


@pytest.fixture
def justclick(httpserver):
    gated = GatedJustClick(httpserver)
    yield gated
    gated.open()  # never leave a handler thread waiting


def token_of(page: str) -> str:
    return re.search(r'name="submission_token" type="hidden" value="([^"]+)"', page)[1]


def browser_signed_in(root, user=OPERATOR):
    browser = requests.Session()
    browser.headers["Connection"] = "close"  # no keep-alive for a shutdown to wait out
    response = browser.post(root + "login", data={k: user[k] for k in ("username", "password")})
    assert response.ok
    return browser


# 1. Two tabs of one session -------------------------------------------------------------------

def test_a_second_tab_sending_the_same_order_during_the_first_call_is_asked_first(justclick, tmp_path):
    app = create_app(desk_config(justclick.url, tmp_path, JUSTCLICK_TIMEOUT=10))
    with serve(app) as root:
        browser = browser_signed_in(root)
        tab1, tab2 = (token_of(browser.get(root).text) for _ in range(2))
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(browser.post, root, data={**ORDER, "submission_token": tab1},
                                allow_redirects=False, timeout=20)
            assert justclick.arrived.wait(10)
            second = browser.post(root, data={**ORDER, "submission_token": tab2}, allow_redirects=False,
                                  timeout=20)
            justclick.open()
            first = first.result(timeout=20)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "is being sent right now" in second.text
    assert 'value="Ольга"' in second.text  # the second tab's input is kept
    assert justclick.calls == 1


# 2. A crash mid-call ------------------------------------------------------------------------------

def _workers(master_pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def test_workers_killed_mid_call_leave_a_record_that_stops_a_second_invoice(justclick, tmp_path):
    with gunicorn(justclick.url, tmp_path / "instance", JUSTCLICK_CONNECT_TIMEOUT="1") as desk:
        browser = signed_in(desk.url)
        tokens = form_tokens(browser.get(desk.url).text)
        with ThreadPoolExecutor(max_workers=1) as pool:
            sending = pool.submit(browser.post, desk.url, data={**ORDER, **tokens}, allow_redirects=False,
                                  timeout=30)
            assert justclick.arrived.wait(10)
            for pid in _workers(desk.process.pid):
                os.kill(pid, signal.SIGKILL)
            with pytest.raises(requests.ConnectionError):
                sending.result(timeout=30)
        justclick.open()
        deadline = time.monotonic() + 30
        while len(_workers(desk.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the master boots new workers
        # the same form again: it waits out the call's time, then says what is known
        replay = browser.post(desk.url, data={**ORDER, **tokens}, allow_redirects=False, timeout=30)
        fresh = browser.post(desk.url, data={**ORDER, **form_tokens(browser.get(desk.url).text)},
                             allow_redirects=False, timeout=30)
        history = browser.get(desk.url + "history").text
    assert fresh.status_code == 409, fresh.text[:300]
    assert "Check JustClick first" in fresh.text
    assert replay.status_code == 409 and "may or may not exist" in replay.text
    assert "once@example.com" in history and "Unknown" in history
    assert justclick.calls == 1


# 3. Another session or operator ---------------------------------------------------------------------

@pytest.fixture
def team_app(sandbox_server, tmp_path, request):
    return create_app(desk_config(sandbox_server.url, tmp_path, TEAM_USERS=TEAM, **timeouts_of(request)))


def test_a_colleague_sending_the_same_order_is_told_who_created_it(team_app, sandbox_server):
    alice = sign_in(team_app.test_client())
    boris = sign_in(team_app.test_client(), COLLEAGUE["username"], COLLEAGUE["password"])
    assert alice.post("/", data=ORDER).status_code == 303
    response = boris.post("/", data=ORDER)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert OPERATOR["name"] in page and "once@example.com" in page
    assert len(sandbox_server.book.all()) == 1


@pytest.mark.gives_up_soon
def test_signing_in_again_does_not_forget_an_unknown_outcome(team_app, sandbox_server):
    client = sign_in(team_app.test_client())
    slow = {**ORDER, "customer_email": "slow@sandbox.test"}
    assert client.post("/", data=slow).status_code == 502
    client.post("/logout")
    again = sign_in(client).post("/", data=slow)
    assert again.status_code == 409
    assert "Check JustClick first" in again.get_data(as_text=True)
    assert len(sandbox_server.book.all()) == 1


def test_the_guard_finds_an_order_behind_many_newer_ones(sandbox_server, tmp_path):
    app = create_app(desk_config(sandbox_server.url, tmp_path, ORDER_RATE_LIMIT="100 per minute"))
    client = sign_in(app.test_client())
    assert client.post("/", data=ORDER).status_code == 303
    for i in range(21):
        assert client.post("/", data={**ORDER, "customer_email": f"other{i}@example.com"}).status_code == 303
    assert client.post("/", data=ORDER).status_code == 409
    assert len(sandbox_server.book.all()) == 22


# 4. Redis stopped or paused mid-call ---------------------------------------------------------------

def _redis_desk(justclick, tmp_path, port):
    """A desk on a redis-server that the test stops or pauses while createorder is in flight."""
    app = create_app(desk_config(justclick.url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{port}/0",
                                 PROPAGATE_EXCEPTIONS=False, JUSTCLICK_TIMEOUT=10))
    return app, sign_in(app.test_client())


def _pause(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] != "T":  # stopped, for sure
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.usefixtures("redis_server")
def test_redis_stopped_mid_call_the_outcome_is_shown_and_kept(justclick, tmp_path):
    port, folder = free_port(), tmp_path / "redis"
    folder.mkdir()
    with redis_process(port, folder, persist=False) as redis:
        app, client = _redis_desk(justclick, tmp_path, port)
        justclick.on_arrival = lambda: (redis.terminate(), redis.wait(10), justclick.open())
        response = client.post("/", data=ORDER)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:300]
    assert "Order created" in page and "could not be kept in the history" in page
    with redis_process(port, folder, persist=False):  # back, empty: sessions and records are gone
        colleague = sign_in(app.test_client())
        again = colleague.post("/", data=ORDER)
        assert again.status_code == 409, again.get_data(as_text=True)[:300]
        assert "This looks like an order you just created" in again.get_data(as_text=True)
    assert justclick.calls == 1


@pytest.mark.usefixtures("redis_server")
def test_redis_paused_mid_call_the_outcome_is_shown_and_kept(justclick, tmp_path):
    port, folder = free_port(), tmp_path / "redis"
    folder.mkdir()
    with redis_process(port, folder, persist=False) as redis:
        app, client = _redis_desk(justclick, tmp_path, port)
        justclick.on_arrival = lambda: (_pause(redis.pid), justclick.open())
        try:
            response = client.post("/", data=ORDER)
        finally:
            os.kill(redis.pid, signal.SIGCONT)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page[:300]
        assert "Order created" in page
        again = client.post("/", data=ORDER)
        assert again.status_code == 409
        assert "This looks like an order you just created" in again.get_data(as_text=True)
        history = client.get("/history").get_data(as_text=True)
        assert "once@example.com" in history and "Created" in history
    assert justclick.calls == 1


# 5. The store failing ---------------------------------------------------------------------------------

def test_a_store_failing_during_the_call_still_guards_the_order(justclick, tmp_path):
    app = create_app(desk_config(justclick.url, tmp_path, JUSTCLICK_TIMEOUT=10))
    read_only = OSError(30, "Read-only file system")
    stores = {"history_store": services_of(app).history, "order_index": services_of(app).index}
    (tmp_path / "a-file").write_text("")

    def folder_turns_read_only():
        services_of(app).history = FailingOn(stores["history_store"], "update", read_only)
        services_of(app).index = FailingOn(stores["order_index"], "put", read_only)
        services_of(app).journal.path = str(tmp_path / "a-file" / "journal")  # a real failing write
        justclick.open()

    justclick.on_arrival = folder_turns_read_only
    client = sign_in(app.test_client())
    token = token_of(client.get("/").get_data(as_text=True))
    response = client.post("/", data={**ORDER, "submission_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Order created" in page
    assert "could not be kept in the history" in page
    fresh = client.post("/", data=ORDER)
    assert fresh.status_code == 409, fresh.get_data(as_text=True)[:300]
    twin = client.post("/", data={**ORDER, "submission_token": token})  # what this worker knows
    assert twin.status_code == 200 and "Order created" in twin.get_data(as_text=True)
    assert justclick.calls == 1


def test_nothing_is_sent_when_the_attempt_cannot_be_recorded(justclick, tmp_path):
    justclick.open()
    app = create_app(desk_config(justclick.url, tmp_path))
    disk_full = OSError(28, "No space left on device")
    services_of(app).history = FailingOn(services_of(app).history, "append", disk_full)
    client = sign_in(app.test_client())
    response = client.post("/", data=ORDER)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Nothing was sent" in page and 'value="Ольга"' in page
    assert justclick.calls == 0
    services_of(app).history = services_of(app).history.store  # the disk has room again
    token = token_of(page)
    assert client.post("/", data={**ORDER, "submission_token": token}).status_code == 303
    assert justclick.calls == 1


# 6. 601: the order already exists -----------------------------------------------------------------------

def test_601_is_an_existing_order_not_a_refusal(httpserver, tmp_path):
    exists = Response(json.dumps({"error_code": 601, "error_text": "order already exist. his number send "
                                  "in result array", "result": {"bill_id": "10452"}}))
    justclick = GatedJustClick(httpserver, reply=exists)
    justclick.open()
    client = sign_in(create_app(desk_config(justclick.url, tmp_path)).test_client())
    response = client.post("/", data=ORDER)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert response.status_code == 303
    assert "already exists in JustClick" in page and "10452" in page
    assert "refused" not in page
    again = client.post("/", data=ORDER)
    assert again.status_code == 409
    assert justclick.calls == 1


# 7. The rate limiter never answers a twin ---------------------------------------------------------

def test_a_twin_post_is_answered_with_the_first_outcome_not_the_rate_limit(sandbox_server, tmp_path):
    app = create_app(desk_config(sandbox_server.url, tmp_path, ORDER_RATE_LIMIT="1 per minute"))
    client = sign_in(app.test_client())
    token = token_of(client.get("/").get_data(as_text=True))
    first = client.post("/", data={**ORDER, "submission_token": token})
    twin = client.post("/", data={**ORDER, "submission_token": token})
    assert first.status_code == twin.status_code == 303
    assert twin.headers["Location"] == first.headers["Location"]
    other = client.post("/", data={**ORDER, "customer_email": "next@example.com"})
    assert other.status_code == 429  # a new order still counts against the limit
    assert len(sandbox_server.book.all()) == 1
