"""Shared fixtures: a JustClick stand-in over real HTTP on 127.0.0.1, and the desk pointed at it."""

import gzip
import hashlib
import html
import logging
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from types import SimpleNamespace
from urllib.parse import unquote, unquote_plus

import brotli
import pytest
from flask import Flask, request_finished
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from webapp.sandbox.standin import OrderBook, create_sandbox_app
from webapp.web.services import services_of

# The suite never reaches a real shop, whatever the developer's shell exports.
for _name in ("JUSTCLICK_USERNAME", "JUSTCLICK_API_KEY", "JUSTCLICK_API_URL", "TEAM_USERS", "REDIS_URL",
              "SECRET_KEY", "DEFAULT_PHONE_REGION", "ACCOUNT_TIMEZONE", "PAYMENT_LINK_HOSTS"):
    os.environ.pop(_name, None)

API_KEY = "test-key~0a/1b+2c"  # - ~ / +: characters that URL and JSON encoding each write their own way
LOGIN = "testshop"


def reply_hash(code: int, text: str, key: str = API_KEY) -> str:
    """The hash JustClick signs a reply with: md5("{error_code}::{error_text}::{secret}")."""
    return hashlib.md5(f"{code}::{text}::{key}".encode()).hexdigest()


OPERATOR = {"username": "alice", "password": "correct horse 7", "manager_id": 71258, "name": "Alice Smith"}
TEAM_USERS = {OPERATOR["username"]: {"password_hash": generate_password_hash(OPERATOR["password"]),
                                     "manager_id": OPERATOR["manager_id"], "name": OPERATOR["name"]}}


@contextmanager
def serve(wsgi_app):
    """Serve a WSGI app on 127.0.0.1 in a thread; yields its root URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    # A short poll interval: shutdown() waits for one poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def read_only(folder):
    """`folder` refuses new files while inside, even for root (who ignores permission bits):
    chattr +i as root, chmod otherwise."""
    import subprocess

    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("this file system cannot make a folder read-only for root (chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.fixture
def make_sandbox(tmp_path):
    """Start stand-ins with chosen settings (latency, slow_seconds); each over real HTTP."""
    stack = []

    def start(clock_skew: float = 0.0, **settings):
        book = OrderBook(str(tmp_path / f"orders-{len(stack)}.sqlite3"), clock_skew=clock_skew)
        settings.setdefault("slow_seconds", 1.5)
        app = create_sandbox_app(API_KEY, login=LOGIN, book=book, **settings)
        context = serve(app)
        root = context.__enter__()
        stack.append(context)
        return SimpleNamespace(url=root + "api/", root=root, book=book, api_key=API_KEY, login=LOGIN, app=app)

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


@pytest.fixture
def sandbox_server(make_sandbox):
    return make_sandbox()


#: Hashed static files, built once for the whole run rather than by each test's app. Their names say
#: what they hold, so runs and checkouts can share the folder.
STATIC_BUILD_FOLDER = os.path.join(tempfile.gettempdir(), f"orderdesk-test-static-{os.getuid()}")


def desk_config(api_url: str, tmp_path, **overrides) -> dict:
    """The desk as deployed (not sandbox mode), talking to `api_url`."""
    return {
        "TESTING": True,
        "SANDBOX": False,
        "SECRET_KEY": "test-secret",
        "JUSTCLICK_API_URL": api_url,
        "JUSTCLICK_API_KEY": API_KEY,
        "JUSTCLICK_USERNAME": LOGIN,
        "JUSTCLICK_TIMEOUT": 0.5,
        "JUSTCLICK_CONNECT_TIMEOUT": 0.5,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "WTF_CSRF_ENABLED": False,
        "TEAM_USERS": TEAM_USERS,
        "STATIC_BUILD_FOLDER": STATIC_BUILD_FOLDER,
        # A new instance folder remembers no order, so the guard would first ask JustClick: tests of other
        # things run as a desk that has remembered long enough (tests/test_guard_memory.py tests the asking).
        "GUARD_ASKS_JUSTCLICK": False,
        **overrides,
    }


def desk_in(locale: str) -> dict:
    """Settings that make the desk speak `locale` (the language the desk falls back to)."""
    return {"DEFAULT_LOCALE": locale}


@pytest.fixture
def app(sandbox_server, tmp_path):
    from webapp import create_app

    return create_app(desk_config(sandbox_server.url, tmp_path))


class DeskClient(FlaskClient):
    """Posts an order form the way a browser does: with the one-time token the rendered form carries.

    Tests that are about tokens pass `submission_token` themselves.
    """

    def open(self, *args, **kwargs):
        data = kwargs.get("data")
        path = args[0] if args else kwargs.get("path", "/")
        if (kwargs.get("method") == "POST" and path == "/" and isinstance(data, dict)
                and "submission_token" not in data and not data.get("action")):
            try:  # issued to the operator, as the rendered form's would be
                with self.session_transaction() as session:
                    owner = session.get("operator", "")
            except Exception:  # the store is away: the desk answers before any token is looked at
                owner = ""
            token = services_of(self.application).tokens.new(owner)
            kwargs["data"] = {**data, "submission_token": token}
        return super().open(*args, **kwargs)


Flask.test_client_class = DeskClient


def sign_in(client, username=OPERATOR["username"], password=OPERATOR["password"]):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def client(app):
    """A test client signed in as a team member."""
    return sign_in(app.test_client())


def _free_port() -> int:
    import socket

    with socket.socket() as probe:  # redis-server refuses --port 0: ask the kernel, then pass it on
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real, throw-away redis-server on 127.0.0.1; yields its URL."""
    import shutil
    import subprocess
    import time

    import redis

    binary = shutil.which("redis-server")
    if not binary:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("ORDER_DESK_REQUIRE_REDIS") or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("redis")
    for _ in range(3):  # the free port may be taken again before redis binds it
        port = _free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder)],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.from_url(url)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        else:
            process.kill()
            process.wait()
            continue
        client.close()
        try:
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)
        return
    pytest.fail("redis-server did not answer PING")


@pytest.fixture
def redis_url(redis_server):
    """The shared redis-server, emptied for this test."""
    import redis

    client = redis.from_url(redis_server)
    client.flushdb()
    yield redis_server
    client.close()


DECOMPRESS = {"br": brotli.decompress, "gzip": gzip.decompress}


def decoded_spellings(text: str) -> set[str]:
    """`text` as JSON, URL and HTML decoding would read it: a secret in any escaped spelling (%7E,
    %7e, \\/, \\u002d, +, mixed) shows up plain in one of these."""
    json_read = re.sub(r"\\u([0-9a-fA-F]{4})", lambda code: chr(int(code[1], 16)), text)
    json_read = re.sub(r'\\([/"\\])', r"\1", json_read)
    found = {text, json_read}
    for variant in list(found):
        found |= {unquote(variant), unquote_plus(variant), html.unescape(variant)}
    return found


def carries_secret(text: str, secrets) -> bool:
    return any(secret in variant for variant in decoded_spellings(text) for secret in secrets)


class _SecretWatch(logging.Handler):
    """Collects every log record and response of the run that carries a secret."""

    def __init__(self, secrets):
        super().__init__(level=logging.DEBUG)
        self.secrets = secrets
        self.leaks = []

    def emit(self, record):
        text = f"{record.getMessage()} {record.exc_text or ''}"
        if carries_secret(text, self.secrets):
            self.leaks.append(f"log {record.name}: {text[:200]}")

    def check_response(self, sender, response, **extra):
        if response.is_streamed:
            return
        body = response.get_data()
        encoding = response.headers.get("Content-Encoding")
        if encoding in DECOMPRESS:  # a compressed page can leak as well as a plain one
            body = DECOMPRESS[encoding](body)
        body = body.decode(errors="replace") + str(response.headers)
        if carries_secret(body, self.secrets):
            self.leaks.append(f"response of {sender.name}: {response.status}")


@pytest.fixture(scope="session", autouse=True)
def secrets_never_leak():
    """The rpsKey and password hashes are absent from every response and log record of the run."""
    watch = _SecretWatch([API_KEY] + [u["password_hash"] for u in TEAM_USERS.values()])
    root = logging.getLogger()
    level = root.level
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    request_finished.connect(watch.check_response)
    yield watch
    request_finished.disconnect(watch.check_response)
    root.removeHandler(watch)
    root.setLevel(level)
    assert watch.leaks == []


class Counted:
    """A stand-in's WSGI app that notes every API method it is asked."""

    def __init__(self, app):
        self.app, self.methods = app, []

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/"):
            self.methods.append(environ["PATH_INFO"].removeprefix("/api/"))
        return self.app(environ, start_response)

    def lookups(self) -> list[str]:
        return [m for m in self.methods if m in ("GetBills", "getOrderDetails")]


@pytest.fixture
def shop(make_sandbox):
    """The stand-in over real HTTP, counting the API methods it is asked."""
    server = make_sandbox()
    counted = Counted(server.app)
    with serve(counted) as root:
        server.counted, server.root, server.url = counted, root, root + "api/"
        yield server
