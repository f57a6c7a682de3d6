"""Shared fixtures: a JustClick stand-in over real HTTP on 127.0.0.1, and the desk pointed at it."""

import logging
import os
from types import SimpleNamespace

import pytest
from flask import Flask, request_finished

from tests.support.desk import (
    API_KEY,
    DECOMPRESS,
    LOGIN,
    TEAM_USERS,
    Counted,
    DeskClient,
    carries_secret,
    desk_config,
    free_port,
    serve,
    sign_in,
    timeouts_of,
)
from webapp.sandbox.standin import OrderBook, create_sandbox_app

# The suite never reaches a real shop, whatever the developer's shell exports.
for _name in ("JUSTCLICK_USERNAME", "JUSTCLICK_API_KEY", "JUSTCLICK_API_URL", "TEAM_USERS", "REDIS_URL",
              "SECRET_KEY", "DEFAULT_PHONE_REGION", "ACCOUNT_TIMEZONE", "PAYMENT_LINK_HOSTS"):
    os.environ.pop(_name, None)


@pytest.fixture
def make_sandbox(tmp_path):
    """Start stand-ins with chosen settings (latency, slow_seconds); each over real HTTP."""
    stack = []

    def start(clock_skew: float = 0.0, wrap=None, **settings):
        """`wrap(app)`: what is served instead of the stand-in's app (one method answering otherwise)."""
        book = OrderBook(str(tmp_path / f"orders-{len(stack)}.sqlite3"), clock_skew=clock_skew)
        settings.setdefault("slow_seconds", 5.0)  # well after GIVES_UP_SOON, even on a busy machine
        app = create_sandbox_app(API_KEY, login=LOGIN, book=book, **settings)
        context = serve(wrap(app) if wrap else app)
        root = context.__enter__()
        stack.append(context)
        return SimpleNamespace(url=root + "api/", root=root, book=book, api_key=API_KEY, login=LOGIN, app=app)

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


@pytest.fixture
def sandbox_server(make_sandbox):
    return make_sandbox()


@pytest.fixture
def app(sandbox_server, tmp_path, request):
    from webapp import create_app

    return create_app(desk_config(sandbox_server.url, tmp_path, **timeouts_of(request)))


Flask.test_client_class = DeskClient


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def client(app):
    """A test client signed in as a team member."""
    return sign_in(app.test_client())


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
        port = free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder)],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.from_url(url)
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            try:  # the one answering must be ours, not another test worker's that holds the port
                if client.info("server")["process_id"] == process.pid:
                    break
            except redis.ConnectionError:
                pass
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


@pytest.fixture
def shop(make_sandbox):
    """The stand-in over real HTTP, counting the API methods it is asked."""
    server = make_sandbox()
    counted = Counted(server.app)
    with serve(counted) as root:
        server.counted, server.root, server.url = counted, root, root + "api/"
        yield server
