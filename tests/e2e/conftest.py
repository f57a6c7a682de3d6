"""Browser tests: Debian's chromium drives the desk served over real HTTP on 127.0.0.1.

The desk runs with CSRF protection on (the browser must carry the token like an operator's would)
and talks either to a JustClick stand-in in its own thread (`live_desk`) or, in sandbox mode, to
the stand-in built into the desk (`sandbox_desk`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.support.desk import OPERATOR, desk_config, serve, timeouts_of
from webapp.web.services import services_of

SCREENSHOTS = Path(__file__).parent / "screenshots"

# A state the page reaches through a chain of requests (a region that loads, asks the stand-in, swaps)
# may take longer than Playwright's default 5 s on a machine that other programs keep busy: wait for it
# as long as for an element (the page fixture's 10 s). Waiting on the state, never sleeping.
expect.set_options(timeout=10_000)

CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests may run as root (CI containers)
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options plus Debian's chromium (never a downloaded browser)."""
    path = chromium_path()
    if not path or not os.access(path, os.X_OK):
        where = f"CHROMIUM_PATH={path!r} is not an executable" if os.environ.get("CHROMIUM_PATH") else \
            "no chromium on PATH"
        reason = f"{where}: apt-get install --no-install-recommends chromium, or set CHROMIUM_PATH"
        if os.environ.get("ORDER_DESK_REQUIRE_BROWSER"):
            pytest.fail(f"the browser tests must run here, but {reason}", pytrace=False)
        pytest.skip(reason)
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]
    return {**browser_type_launch_args, "executable_path": path, "args": args}


@pytest.fixture
def page(page):
    """pytest-playwright's page, failing after 10 s instead of 30 when an element never appears."""
    page.set_default_timeout(10_000)
    return page


# --- the desk over real HTTP -----------------------------------------------------------------


class LiveDesk(SimpleNamespace):
    """A running desk: .url (its root), .book (the stand-in's accepted orders), .app, .sandbox."""

    def open(self, page, path: str = ""):
        """Go to `path` as a signed-in operator (signing in through the page when asked to)."""
        page.goto(self.url + path)
        if urlsplit(page.url).path == "/login":
            page.get_by_label("Username").fill(self.username)
            page.get_by_label("Password").fill(self.password)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(self.url + path)
            page.wait_for_load_state()  # the scripts have run: htmx is listening
        return page


@pytest.fixture
def make_desk(make_sandbox, tmp_path, request):
    """Start a desk in a thread: against a stand-in over HTTP, or in sandbox mode (sandbox=True)."""
    from webapp import create_app
    from webapp.auth.team import DEMO_USER
    from webapp.config import SANDBOX_API_KEY, SANDBOX_API_URL

    contexts = []

    def start(sandbox: bool = False, slow_seconds: float = 5.0, wrap=None, **overrides):
        instance = tmp_path / f"desk-{len(contexts)}"
        if sandbox:  # as `make run` starts it: no team, so the sandbox's demo operator signs in
            stand_in, user = None, DEMO_USER
            config = desk_config(SANDBOX_API_URL, instance, SANDBOX=True, JUSTCLICK_API_KEY=SANDBOX_API_KEY,
                                 JUSTCLICK_USERNAME="sandbox", TEAM_USERS={})
        else:
            stand_in, user = make_sandbox(slow_seconds=slow_seconds, wrap=wrap), OPERATOR
            config = desk_config(stand_in.url, instance)
        config.update({"WTF_CSRF_ENABLED": True, **timeouts_of(request), **overrides})
        app = create_app(config)
        context = serve(app)
        url = context.__enter__()
        contexts.append(context)
        book = services_of(app).sandbox_book if sandbox else stand_in.book
        return LiveDesk(url=url, book=book, app=app, stand_in=stand_in, sandbox=sandbox,
                        username=user["username"], password=user["password"])

    yield start
    for context in reversed(contexts):
        context.__exit__(None, None, None)


@pytest.fixture
def live_desk(make_desk, request):
    """The desk against a JustClick stand-in over HTTP; `indirect` param "sandbox" for sandbox mode."""
    return make_desk(sandbox=getattr(request, "param", None) == "sandbox")


@pytest.fixture
def sandbox_desk(make_desk):
    """The desk in sandbox mode: the stand-in runs in-process, accepted orders show on /sandbox."""
    return make_desk(sandbox=True)


# --- console and page errors ------------------------------------------------------------------


class ConsoleWatch:
    """Collects console errors and uncaught page errors of the pages it watches."""

    # Chromium logs every 4xx/5xx answer to fetch/XHR as a console error. Tests that expect such an
    # answer (a 422 for a form with errors) name its status in `assert_clean(expected_statuses=...)`.
    NETWORK = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")
    # Chromium fetches a page's icon on its own; whether the desk serves one is checked once, by
    # test_every_page_finds_its_favicon, rather than by every test of the suite.
    FAVICON = re.compile(r"Failed to load resource: .* \(\S+/favicon\.ico\)$")

    def __init__(self):
        self.errors: list[str] = []

    def watch(self, page):
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text} ({msg.location.get('url')})")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return self

    def unexpected(self, expected_statuses=()) -> list[str]:
        wanted = {str(status) for status in expected_statuses}
        errors = [e for e in self.errors if not self.FAVICON.search(e)
                  and not ((match := self.NETWORK.search(e)) and match[1] in wanted)]
        # htmx logs a request it aborted for a newer one (the live summary's hx-sync) as two errors,
        # htmx:sendAbort and htmx:afterRequest. Whether that happens depends on timing, so those pairs
        # are left to test_a_superseded_summary_refresh_logs_no_error, which provokes one on purpose.
        aborts = sum("htmx:sendAbort" in e for e in errors)
        kept = []
        for error in errors:
            if "htmx:sendAbort" in error:
                continue
            if "htmx:afterRequest" in error and aborts:
                aborts -= 1
                continue
            kept.append(error)
        return kept

    def assert_clean(self, expected_statuses=()):
        errors = self.unexpected(expected_statuses)
        assert not errors, "errors in the browser console:\n" + "\n".join(errors)


@pytest.fixture
def watch_console():
    """watch_console(page) -> a ConsoleWatch of that page (for pages of contexts a test makes itself)."""
    return lambda page: ConsoleWatch().watch(page)


@pytest.fixture
def console(page, watch_console):
    """The console of `page`; a test calls `console.assert_clean()` once its page has done its work."""
    return watch_console(page)


# --- screenshots --------------------------------------------------------------------------------


@pytest.fixture
def screenshot():
    """Save a full-page screenshot as tests/e2e/screenshots/<name>.png; returns its path."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        # caret="initial": hiding the caret would leave style="" on every input, and htmx copying that
        # attribute at its next swap would show up as a CSP violation that is not the desk's.
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    return save
