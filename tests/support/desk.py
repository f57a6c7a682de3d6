"""The desk as tests build it: its configuration, a signed-in client, a served WSGI app, secrets to watch."""

import gzip
import hashlib
import html
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from urllib.parse import unquote, unquote_plus

import brotli
import pytest
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from webapp.web.services import services_of

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


#: Hashed static files, built once for the whole run rather than by each test's app. Their names say
#: what they hold, so runs and checkouts can share the folder.
STATIC_BUILD_FOLDER = os.path.join(tempfile.gettempdir(), f"orderdesk-test-static-{os.getuid()}")


#: A desk that gives up on JustClick after a second: for tests of what a timeout does. The stand-in's
#: slow@ answer comes seconds later (`slow_seconds`), so however busy the machine, the desk has given up
#: first. Every other test waits as long as desk_config says: a busy CI machine is not a slow JustClick.
GIVES_UP_SOON = {"JUSTCLICK_TIMEOUT": 1.0}


def timeouts_of(request) -> dict:
    """GIVES_UP_SOON for a test marked `gives_up_soon`, for fixtures that build its desk."""
    return GIVES_UP_SOON if request.node.get_closest_marker("gives_up_soon") else {}


def desk_config(api_url: str, tmp_path, **overrides) -> dict:
    """The desk as deployed (not sandbox mode), talking to `api_url`."""
    return {
        "TESTING": True,
        "SANDBOX": False,
        "SECRET_KEY": "test-secret",
        "JUSTCLICK_API_URL": api_url,
        "JUSTCLICK_API_KEY": API_KEY,
        "JUSTCLICK_USERNAME": LOGIN,
        # Long enough for a machine as busy as CI's can be; tests of a timeout ask for GIVES_UP_SOON.
        "JUSTCLICK_TIMEOUT": 10.0,
        "JUSTCLICK_CONNECT_TIMEOUT": 10.0,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "WTF_CSRF_ENABLED": False,
        "TEAM_USERS": TEAM_USERS,
        # A deployed desk reads a number without + in no region unless told; the test shop keeps Moscow time.
        "DEFAULT_PHONE_REGION": None,
        "ACCOUNT_TIMEZONE": "Europe/Moscow",
        "STATIC_BUILD_FOLDER": STATIC_BUILD_FOLDER,
        # A new instance folder remembers no order, so the guard would first ask JustClick: tests of other
        # things run as a desk that has remembered long enough (tests/test_guard_memory.py tests the asking).
        "GUARD_ASKS_JUSTCLICK": False,
        **overrides,
    }


def desk_in(locale: str) -> dict:
    """Settings that make the desk speak `locale` (the language the desk falls back to)."""
    return {"DEFAULT_LOCALE": locale}


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


def sign_in(client, username=OPERATOR["username"], password=OPERATOR["password"], path="/login"):
    response = client.post(path, data={"username": username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def free_port() -> int:
    import socket

    with socket.socket() as probe:  # redis-server refuses --port 0: ask the kernel, then pass it on
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def answering(stand_in, method: str, envelope: dict):
    """The stand-in's WSGI app, except that `method` answers `envelope` (hash and all, as JustClick signs
    it): e.g. a GetBills that lists nothing, or that meets the request limit."""
    import hashlib
    import json

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").endswith(f"/{method}"):
            signed = f"{envelope['error_code']}::{envelope['error_text']}::{API_KEY}"
            body = {**envelope, "hash": hashlib.md5(signed.encode()).hexdigest()}
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        return stand_in(environ, start_response)
    return app


#: GetBills as JustClick answers for an email without invoices: nothing listed (yet).
NO_BILLS = {"error_code": 400, "error_text": "No bills", "result": []}


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
