"""Shared fixtures: a JustClick stand-in over real HTTP on 127.0.0.1, and the desk pointed at it."""

import os
import threading
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from webapp.sandbox import OrderBook, create_sandbox_app

# The suite never reaches a real shop, whatever the developer's shell exports.
for _name in ("JUSTCLICK_USERNAME", "JUSTCLICK_API_KEY", "JUSTCLICK_API_URL", "TEAM_USERS", "REDIS_URL",
              "SECRET_KEY", "DEFAULT_PHONE_REGION", "ACCOUNT_TIMEZONE"):
    os.environ.pop(_name, None)

API_KEY = "test-key-0a1b2c"
LOGIN = "testshop"


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


@pytest.fixture
def make_sandbox(tmp_path):
    """Start stand-ins with chosen settings (latency, slow_seconds); each over real HTTP."""
    stack = []

    def start(**settings):
        book = OrderBook(str(tmp_path / f"orders-{len(stack)}.sqlite3"))
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
        **overrides,
    }


@pytest.fixture
def app(sandbox_server, tmp_path):
    from webapp import create_app

    return create_app(desk_config(sandbox_server.url, tmp_path))


@pytest.fixture
def client(app):
    return app.test_client()
