"""The desk as deployed: gunicorn with the Procfile settings, several workers, restarts."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
import requests

from tests.support import ROOT
from tests.support.desk import API_KEY, LOGIN, OPERATOR, TEAM_USERS, read_only, serve
from webapp.sandbox.standin import OrderBook, create_sandbox_app

ORDER = {"customer_email": "gunicorn@example.com", "products-0-good_name": "digital"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_procfile(stand_in_url: str, instance: Path, **env):
    """The Procfile's command, bound to a free port on 127.0.0.1; (process, port, its log file)."""
    port = free_port()
    procfile = (ROOT / "Procfile").read_text().split(":", 1)[1].strip()
    # exec: the shell becomes gunicorn, so waiting for the process waits for gunicorn's shutdown
    command = "exec " + procfile.replace("gunicorn", f"{sys.executable} -m gunicorn", 1)
    environment = {
        **os.environ, "PORT": str(port), "JUSTCLICK_USERNAME": LOGIN, "JUSTCLICK_API_KEY": API_KEY,
        "JUSTCLICK_API_URL": stand_in_url, "JUSTCLICK_TIMEOUT": "10", "SECRET_KEY": "gunicorn-test",
        "TEAM_USERS": json.dumps(TEAM_USERS), "INSTANCE_PATH": str(instance), "WEB_CONCURRENCY": "2",
        # A new instance folder remembers no order, so the guard would first ask JustClick: tests of other
        # things run as a desk that has remembered long enough (tests/test_guard_memory.py tests the asking).
        "GUARD_ASKS_JUSTCLICK": "off", **env,
    }
    log_path = instance.parent / f"gunicorn-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, shell=True, cwd=ROOT, env=environment, stdout=log, stderr=log,
                                   start_new_session=True)
    return process, port, log_path


@contextmanager
def gunicorn(stand_in_url: str, instance: Path, **env):
    """The Procfile's command, bound to a free port on 127.0.0.1."""
    process, port, log_path = start_procfile(stand_in_url, instance, **env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:  # the master listens before its workers have booted
                if requests.get(url + "healthz", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield SimpleNamespace(url=url, process=process, log=log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def signed_in(url: str, username=OPERATOR["username"], password=OPERATOR["password"]) -> requests.Session:
    browser = requests.Session()
    # No keep-alive: a connection left open would make each shutdown wait gunicorn's keepalive out.
    browser.headers["Connection"] = "close"
    csrf = hidden(browser.get(url + "login").text, "csrf_token")
    form = {"username": username, "password": password, "csrf_token": csrf}
    response = browser.post(url + "login", data=form)
    assert response.ok and response.url == url
    return browser


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page)[1]


def form_tokens(page: str) -> dict:
    """What the rendered order form carries: its CSRF token and its one-time submission token."""
    return {name: hidden(page, name) for name in ("csrf_token", "submission_token")}


@pytest.fixture(params=["files", "redis"])
def store_env(request):
    if request.param == "redis":
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


def test_ten_posts_of_one_form_across_two_workers_make_one_order(make_sandbox, tmp_path, store_env):
    # The stand-in takes 0.3 s: the posts land in both workers (checked in the access log, which names
    # the worker of each request).
    stand_in = make_sandbox(latency=0.3)
    with gunicorn(stand_in.url, tmp_path / "instance", **store_env) as desk:
        url = desk.url
        browser = signed_in(url)
        tokens = form_tokens(browser.get(url).text)

        def post(_):
            return requests.post(url, data={**ORDER, **tokens}, cookies=browser.cookies,
                                 allow_redirects=False, timeout=20)

        with ThreadPoolExecutor(max_workers=10) as pool:
            responses = list(pool.map(post, range(10)))
    assert len(stand_in.book.all()) == 1
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["Location"] for r in responses}) == 1
    served_by = set(re.findall(r'"POST / HTTP/1.1" 303 .* worker=<(\d+)>', desk.log.read_text()))
    assert len(served_by) == 2, served_by


def test_history_survives_a_restart(make_sandbox, tmp_path, store_env):
    stand_in = make_sandbox()
    with gunicorn(stand_in.url, tmp_path / "instance", **store_env) as desk:
        url = desk.url
        browser = signed_in(url)
        tokens = form_tokens(browser.get(url).text)
        created = browser.post(url, data={**ORDER, **tokens}, allow_redirects=False)
        assert created.status_code == 303
    with gunicorn(stand_in.url, tmp_path / "instance", **store_env) as desk:
        url = desk.url
        page = browser.get(url + "history")
        assert page.url == url + "history"  # still signed in
        assert "gunicorn@example.com" in page.text
        assert browser.get(url + created.headers["Location"].lstrip("/")).status_code == 200


def test_sandbox_mode_under_gunicorn_shares_one_order_book(tmp_path):
    env = {"JUSTCLICK_USERNAME": "", "JUSTCLICK_API_KEY": "", "JUSTCLICK_API_URL": "", "SECRET_KEY": "",
           "TEAM_USERS": "", "JUSTCLICK_TIMEOUT": "2"}  # the sandbox's slow@ answers 2 s after that
    with gunicorn("", tmp_path / "instance", **env) as desk:
        url = desk.url
        browser = signed_in(url, "demo", "demo")
        emails = [f"worker{i}@example.com" for i in range(6)]
        for email in emails:
            tokens = form_tokens(browser.get(url).text)
            order = {**ORDER, "customer_email": email, **tokens}
            created = browser.post(url, data=order, allow_redirects=False)
            assert created.status_code == 303
        # whichever worker serves the page, it lists every order any worker created
        for _ in range(4):
            listed = browser.get(url + "sandbox").text
            assert all(email in listed for email in emails)
        # slow@ is answered after the desk's timeout by the in-process stand-in, in a thread of its
        # own (a greenlet under gevent): the worker serves others meanwhile, and then says to check
        order = {**ORDER, "customer_email": "slow@sandbox.test", **form_tokens(browser.get(url).text)}
        with ThreadPoolExecutor(max_workers=1) as pool:
            slow = pool.submit(browser.post, url, data=order)
            for _ in range(4):
                assert requests.get(url + "healthz", timeout=5).ok
            response = slow.result(timeout=30)
        assert response.status_code == 502 and "may or may not exist" in response.text


def test_shutdown_lets_an_order_in_flight_finish(make_sandbox, tmp_path):
    # slow@: the stand-in records the order at once and answers 1.5 s later; the desk waits up to 6 s
    stand_in = make_sandbox(slow_seconds=1.5)
    order = {**ORDER, "customer_email": "slow@sandbox.test"}
    with gunicorn(stand_in.url, tmp_path / "instance", JUSTCLICK_TIMEOUT="6") as desk:
        browser = signed_in(desk.url)
        tokens = form_tokens(browser.get(desk.url).text)
        with ThreadPoolExecutor(max_workers=1) as pool:
            sending = pool.submit(browser.post, desk.url, data={**order, **tokens}, allow_redirects=False)
            deadline = time.monotonic() + 5
            while not stand_in.book.all() and time.monotonic() < deadline:
                time.sleep(0.05)  # the order has reached JustClick; its reply is a second away
            os.killpg(desk.process.pid, signal.SIGTERM)  # the PaaS stops the desk (a deploy)
            response = sending.result(timeout=30)
        assert desk.process.wait(timeout=30) == 0
    assert response.status_code == 303  # the operator still learns the order was created
    assert len(stand_in.book.all()) == 1


# --- the desk on the public internet: one desk for the checks that only read what it does ------


@pytest.fixture(scope="module")
def public_desk(tmp_path_factory):
    """The desk as the Procfile runs it, with its own stand-in."""
    folder = tmp_path_factory.mktemp("public")
    book = OrderBook(str(folder / "orders.sqlite3"))
    with serve(create_sandbox_app(API_KEY, login=LOGIN, book=book)) as root:
        with gunicorn(root + "api/", folder / "instance") as desk:
            desk.book = book
            yield desk


def test_no_request_can_forge_a_log_line_or_log_a_query(public_desk):
    url = public_desk.url
    forged = "%0d%0aFORGED INFO webapp.auth sign-in ok user='admin'%0d%0a"
    assert requests.get(url + forged + "?x=1", allow_redirects=False, timeout=5).status_code == 303
    browser = signed_in(url)
    assert browser.get(url + forged, timeout=5).status_code == 404
    for who in (requests, browser):
        assert who.get(url + "?customer_email=private.person%40example.com", timeout=5).ok
    log = public_desk.log.read_text()
    assert "sign-in ok user='admin'" in log  # the request was logged, escaped on its own line
    assert not any(line.startswith("FORGED") for line in log.splitlines())
    assert "private.person" not in log


def raw_connection(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_slow_and_idle_clients_do_not_take_the_desk_down(public_desk):
    url = public_desk.url
    browser = signed_in(url)
    slow = []
    try:
        for _ in range(20):  # each announces a large sign-in form, sends 10 bytes of it and waits
            client = raw_connection(url)
            client.sendall(b"POST /login HTTP/1.1\r\nHost: desk\r\nContent-Length: 100000\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\n\r\nusername=x")
            slow.append(client)
        for start in (b"", b"GET / HT") * 5:  # idle, and stopped inside the request line
            client = raw_connection(url)
            client.sendall(start)
            slow.append(client)
        for _ in range(4):  # every worker, more than once
            assert requests.get(url + "healthz", timeout=10).json()["status"] == "ok"
            assert "order-form" in browser.get(url, timeout=10).text
    finally:
        for client in slow:
            client.close()


def raw_post(url: str, path: str, body: bytes, *, announce: int | None = None, cookies=None,
             end_after_body: bool = True):
    """POST over a bare socket, announcing `announce` bytes (default: the body's length); the client
    then ends its side of the connection, as a client that gives up does. Returns the response."""
    client = raw_connection(url)
    head = {"Host": "desk", "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body) if announce is None else announce)}
    if cookies:
        head["Cookie"] = "; ".join(f"{cookie.name}={cookie.value}" for cookie in cookies)
    client.sendall(f"POST {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in head.items())
                   .encode() + b"\r\n" + body)
    if end_after_body:
        client.shutdown(socket.SHUT_WR)
    response = http.client.HTTPResponse(client)
    response.begin()
    response.text = response.read().decode()
    client.close()
    return response


def session_files(desk) -> int:
    return sum(1 for _ in (desk.log.parent / "instance" / "sessions").iterdir())


def test_a_body_larger_than_any_order_is_refused_before_it_is_read(public_desk):
    url = public_desk.url
    before = session_files(public_desk)
    browser = signed_in(url)
    start = b"customer_email=big%40example.com&products-0-good_name=digital&note=" + b"n" * 65536
    for path, cookies in (("/login", None), ("/", None), ("/", browser.cookies)):
        # 60 MB announced, 64 KB sent: the answer comes without the rest
        response = raw_post(url, path, start, announce=60_000_000, cookies=cookies, end_after_body=False)
        assert response.status == 413, (path, response.text[:300])
        assert "larger than any order can be" in response.text
    assert session_files(public_desk) == before + 1  # the one sign-in; nothing for the visitors
    assert not [order for order in public_desk.book.all() if "big@example.com" in str(order)]


def test_a_body_cut_short_is_a_400_and_nothing_is_sent(public_desk):
    url = public_desk.url
    browser = signed_in(url)
    for email, cut, announce, status in (("cut@example.com", 2, None, 400),  # "1500" arrives as "15"
                                         ("gave-up@example.com", 0, 99_999_999_999, 413)):
        order = {"customer_email": email, "products-0-good_name": "digital",
                 **form_tokens(browser.get(url).text), "products-0-price": "1500"}
        body = urlencode(order).encode()
        response = raw_post(url, "/", body[:len(body) - cut], announce=announce or len(body),
                            cookies=browser.cookies)
        assert response.status == status, (email, response.text[:300])
        assert not [o for o in public_desk.book.all() if email in str(o)], email
    assert browser.get(url + "history").text.count("example.com") == 0  # nothing was even tried


@pytest.mark.parametrize("problem", ["read-only instance folder", "no SECRET_KEY"])
def test_a_desk_that_cannot_start_stops_with_a_plain_message(tmp_path, problem):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {"SECRET_KEY": ""} if problem == "no SECRET_KEY" else {}
    expected = "set SECRET_KEY" if env else f"cannot write to the instance folder {instance}"
    with read_only(instance):
        process, _port, log_path = start_procfile("http://127.0.0.1:9/api/", instance, **env)
        try:
            status = process.wait(timeout=60)  # by itself: no worker started again and again
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    log = log_path.read_text()
    assert status != 0, log[-2000:]
    assert re.search(rf"^Order Desk: .*{re.escape(expected)}", log, re.MULTILINE), log[-2000:]
    assert "Traceback" not in log


def workers(desk) -> dict[int, int]:
    """Each worker's pid and the most memory it has held so far (VmHWM, in KB)."""
    pids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(desk.process.pid)], capture_output=True,
                          text=True).stdout.split()
    peaks = {}
    for pid in map(int, pids):
        status = Path(f"/proc/{pid}/status").read_text()
        peaks[pid] = int(re.search(r"VmHWM:\s+(\d+) kB", status)[1])
    return peaks


def test_a_hostile_xlsx_is_refused_while_the_desk_answers_and_no_worker_grows(public_desk):
    """Styles, shared strings or one row of cells unpacking into hundreds of megabytes: each is refused
    with its reason, the workers answer /healthz meanwhile, none is killed or grows by 100 MB."""
    from tests.support.hostile_xlsx import REFUSALS, SHAPES

    url = public_desk.url
    browser = signed_in(url)
    files = {shape: build() for shape, build in SHAPES.items()}
    before = workers(public_desk)
    health, done = [], []

    def watch():
        while not done:
            try:
                health.append(requests.get(url + "healthz", timeout=5).status_code)
            except requests.RequestException as exc:
                health.append(repr(exc))
            time.sleep(0.05)

    with ThreadPoolExecutor(max_workers=1) as pool:
        watching = pool.submit(watch)
        try:
            for shape, data in files.items():
                page = browser.get(url + "bulk", timeout=10).text
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
                # a bound far above the 2 s aimed at, so a busy machine cannot fail it; unchanged, the
                # styles bomb held a worker for minutes
                answer = browser.post(url + "bulk", data={"csrf_token": csrf}, timeout=20,
                                      files={"file": ("orders.xlsx", data)})
                assert answer.status_code == 422, shape
                assert REFUSALS[shape] in answer.text, shape
        finally:
            done.append(True)
            watching.result()
    after = workers(public_desk)
    assert set(after) == set(before), public_desk.log.read_text()[-2000:]  # no worker killed
    assert all(after[pid] - before[pid] < 100 * 1024 for pid in before), (before, after)
    assert health and set(health) == {200}, health


def assert_sign_in_limits_hold_across_workers(desk) -> None:
    """5 failures for a username from an address, then 429; and 20 failures from one address,
    whatever the usernames; both workers answering. Each worker counting alone let 11 through and
    never reached 20 at 25 usernames."""
    url = desk.url

    def fail(username: str, address: str) -> int:
        browser = requests.Session()  # a new connection each time: either worker may answer
        browser.headers.update({"Connection": "close", "X-Forwarded-For": address})
        page = browser.get(url + "login", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        form = {"username": username, "password": "wrong", "csrf_token": token}
        return browser.post(url + "login", data=form, timeout=20).status_code

    same_user = [fail("Alice", "10.20.0.1") for _ in range(8)]
    assert same_user == [401] * 5 + [429] * 3, same_user
    many_users = [fail(f"guess{i}", "10.20.0.2") for i in range(25)]
    assert many_users == [401] * 20 + [429] * 5, many_users
    log = desk.log.read_text()
    served_by = set(re.findall(r'"POST /login HTTP/1.1" (?:401|429) .* worker=<?(\d+)>?', log))
    assert len(served_by) == 2  # both workers answered, and counted together


def test_sign_in_limits_hold_across_the_workers_of_one_instance_without_redis(public_desk):
    """Counted in one SQLite file in the instance folder."""
    assert_sign_in_limits_hold_across_workers(public_desk)


def test_sign_in_limits_hold_across_instances_with_redis(make_sandbox, tmp_path, redis_url):
    """Two instances (each of two workers, with instance folders of their own) share one Redis."""
    stand_in = make_sandbox()
    with gunicorn(stand_in.url, tmp_path / "one", REDIS_URL=redis_url) as one, \
            gunicorn(stand_in.url, tmp_path / "two", REDIS_URL=redis_url) as two:
        def fail(desk, username: str) -> int:
            browser = requests.Session()
            browser.headers.update({"Connection": "close", "X-Forwarded-For": "10.30.0.1"})
            page = browser.get(desk.url + "login", timeout=10).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
            form = {"username": username, "password": "wrong", "csrf_token": token}
            return browser.post(desk.url + "login", data=form, timeout=20).status_code

        answers = [fail(desk, "alice") for desk in (one, two) * 4]
    assert answers == [401] * 5 + [429] * 3, answers
