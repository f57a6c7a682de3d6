"""Order Desk: create JustClick orders from one safe form."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import redis
from flask import Flask, g, jsonify

from webapp.attempts.journal import Journal
from webapp.attempts.order_index import RecentOrders
from webapp.attempts.tokens import SubmissionTokens
from webapp.auth.language import account_timezone, choose_language
from webapp.bulk.store import BulkTables
from webapp.config import SANDBOX_API_URL, SESSION_KEPT_AFTER_SIGN_IN_HOURS, ConfigError, load_config
from webapp.justclick.catalog import CatalogService
from webapp.justclick.client import JustClickClient
from webapp.storage import SESSION_KEY_PREFIX, Stores, open_stores
from webapp.storage.files import folder_of
from webapp.web.extensions import babel, compress, csrf, htmx, limiter, server_session
from webapp.web.services import Services, install, services_of

__version__ = "0.1.0"

def create_app(test_config: dict | None = None) -> Flask:
    # Sessions, history, tokens and the list cache live in the instance folder (unless in Redis).
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_path=os.path.abspath(instance) if instance else None)
    try:
        app.config.from_mapping(load_config(os.environ))
    except ConfigError as exc:
        _refuse_to_start(str(exc))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # the session's lifetime bounds the token; forms stay open for hours
        WTF_I18N_ENABLED=True,  # WTForms' own messages in the page's language, from its shipped catalogues
        VERSION=__version__,
        # Pages, partials and the CSV travel compressed: brotli, else gzip. Bodies under 500 bytes
        # gain nothing; a streamed body must reach the browser as it is produced, so it is left as is.
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=5,  # the order page: 7 % smaller than at the default 4, for 0.3 ms more
        COMPRESS_MIMETYPES=["text/html", "application/json", "text/csv"],  # static files: see assets.py
        COMPRESS_MIN_SIZE=500,
        COMPRESS_STREAMS=False,
    )
    app.config.update(test_config or {})
    _check_instance_folder(app)
    if not app.config["SANDBOX"] and not app.config["ACCOUNT_TIMEZONE"]:
        logging.getLogger(__name__).warning(
            "ACCOUNT_TIMEZONE is not set: an invoice whose creation time JustClick gives as a local "
            "date-time is offered to the operator to choose, never attached by itself. Set it to the "
            "account's zone (e.g. Europe/Moscow) to make invoice lookups automatic.")
    if not app.config["SECRET_KEY"]:  # only in sandbox mode: load_config insists elsewhere
        app.config["SECRET_KEY"] = _instance_secret(app)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config["SESSION_LIFETIME_HOURS"] + SESSION_KEPT_AFTER_SIGN_IN_HOURS)

    stores = _configure_storage(app)
    compress.init_app(app)  # first, so that it runs last: it compresses the finished response
    htmx.init_app(app)
    babel.init_app(app, default_translation_directories=str(Path(__file__).parent / "translations"),
                   default_locale=app.config["DEFAULT_LOCALE"], locale_selector=choose_language,
                   timezone_selector=account_timezone)
    limiter.init_app(app)

    client, sandbox = _justclick_client(app)
    install(app, _services(app, stores, client, sandbox))
    _check_store_folders(app, stores)

    from webapp import templating
    from webapp.attempts import sending
    from webapp.attempts import views as history_views
    from webapp.auth import language
    from webapp.auth import signin as auth
    from webapp.bulk import views as bulk_views
    from webapp.orders import views
    from webapp.sandbox import views as sandbox_views
    from webapp.web import assets, errors, logs, request_body, security

    security.init_app(app)
    assets.init_app(app)  # static files are answered here, before sign-in, sessions and logs
    logs.configure(app)
    request_body.init_app(app)
    app.before_request(sending.replay_journal)
    auth.init_app(app)
    app.before_request(request_body.readable_form_only)  # after the gate: the operator's language
    # After the sign-in gate: an anonymous post is sent to sign in before its form is judged.
    csrf.init_app(app)
    app.before_request(logs.bind_operator)
    app.register_blueprint(views.bp)
    app.register_blueprint(history_views.bp)
    app.register_blueprint(bulk_views.bp)
    app.register_blueprint(sandbox_views.bp)
    language.init_app(app)
    errors.register(app)
    app.add_url_rule("/healthz", "health", lambda: jsonify(
        status="ok", version=__version__, mode="sandbox" if app.config["SANDBOX"] else "live"))
    templating.init_app(app)
    return app


def _refuse_to_start(message: str) -> NoReturn:
    """A plain message, not a traceback, in the PaaS log. Exit status 3 is gunicorn's "worker failed
    to boot": its master then stops as well, instead of starting workers that fail the same way."""
    print(f"Order Desk: {message}", file=sys.stderr, flush=True)
    raise SystemExit(3)


def _check_instance_folder(app: Flask) -> None:
    """Refuse to start on an instance folder the desk cannot write to, rather than fail request
    after request (a sign-in that never holds, an order whose history cannot be kept)."""
    if app.config["REDIS_URL"] and not app.config["SANDBOX"]:
        return  # everything lives in Redis; sandbox mode keeps its secret and order book here
    _check_writable([app.instance_path])


def _check_store_folders(app: Flask, stores: Stores) -> None:
    """Every folder a store writes to, as each store names it (sessions, the list cache, history,
    tokens, the order index, preferences, tables, the journal): none is left out by a list kept by
    hand. With Redis only the journal's folder is on this disk."""
    every = [*vars(stores).values(), *vars(services_of(app)).values()]
    _check_writable(sorted({folder for store in every if (folder := folder_of(store))}))


def _check_writable(folders: list[str]) -> None:
    for folder in folders:
        try:
            os.makedirs(folder, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".write-check-")
            os.close(handle)
            os.unlink(probe)
        except OSError as exc:
            _refuse_to_start(f"cannot write to the instance folder {folder} ({exc.strerror}). Give the "
                             "desk a folder it can write to (INSTANCE_PATH), or set REDIS_URL.")


def _instance_secret(app: Flask) -> str:
    """Sandbox mode's secret, made once and kept in the instance folder: every worker and every
    restart share it, so forms and sessions survive a restart."""
    path = os.path.join(app.instance_path, "sandbox-secret-key")
    if not os.path.exists(path):
        draft = f"{path}.{os.getpid()}"
        with open(draft, "w", encoding="ascii") as new:
            new.write(secrets.token_hex(32))
        os.chmod(draft, 0o600)
        with suppress(FileExistsError):  # link: the file appears whole, and the first worker wins
            os.link(draft, path)
        os.unlink(draft)
    with open(path, encoding="ascii") as kept:
        return kept.read().strip()


def _configure_storage(app: Flask) -> Stores:
    """Opens the stores (storage.open_stores chooses files or Redis) and points Flask-Session and the
    rate limiter at the same backend."""
    stores = open_stores(app.config, app.instance_path)
    if stores.redis is not None:
        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=stores.redis)
    else:
        app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=stores.sessions)
    app.config.setdefault("SESSION_PERMANENT", True)
    app.config.setdefault("SESSION_KEY_PREFIX", SESSION_KEY_PREFIX)
    # Save the session only when a request changed it. Flask-Session writes the whole blob, so a
    # request that merely read it (a page load racing a submit) would store its stale copy over the
    # other's change. The price: a session now lasts its lifetime from its last change.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    server_session.init_app(app)
    app.session_interface = _SaveOrLetGo(app.session_interface)
    app.config.setdefault("RATELIMIT_STORAGE_URI", stores.limits)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 3, "socket_connect_timeout": 3})
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # While Redis is away, limits are counted in memory rather than failing every request.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    return stores


def _services(app: Flask, stores: Stores, client: JustClickClient, sandbox: dict) -> Services:
    """What the desk's packages use, over the stores: history, tokens and the index beside the sessions,
    not inside them (appends and claims there are atomic per operation)."""
    lifetime = app.permanent_session_lifetime.total_seconds()
    return Services(
        justclick=client,
        catalog=CatalogService(client, stores.cache, app.config["CATALOG_TTL"]),
        history=stores.history,
        tokens=SubmissionTokens(stores.tokens, str(app.config["SECRET_KEY"])),
        index=RecentOrders(stores.index),
        preferences=stores.preferences,
        tables=BulkTables(stores.tables, lifetime),
        # On this instance's disk even with Redis: it holds what Redis could not take.
        journal=Journal(os.path.join(app.instance_path, "journal.jsonl")),
        **sandbox,
    )


class _SaveOrLetGo:
    """The session interface, except that when an order has been sent, a store failing while the
    session is saved does not replace the response: it carries the order's outcome, which must
    reach the operator. What the request changed in the session is lost; it is logged. Any other
    request fails as before (a sign-in the store cannot keep is a clear 503)."""

    def __init__(self, interface):
        self._interface = interface

    def __getattr__(self, name):
        return getattr(self._interface, name)

    def save_session(self, app, session, response):
        try:
            self._interface.save_session(app, session, response)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            if not g.get("order_sent"):
                raise
            app.logger.exception("the session could not be saved; the order's outcome goes out without it")


def _justclick_client(app: Flask) -> tuple[JustClickClient, dict]:
    """The JustClick client; in sandbox mode also the stand-in it talks to, in this process."""
    client = JustClickClient(
        app.config["JUSTCLICK_API_URL"],
        app.config["JUSTCLICK_API_KEY"],
        login=app.config["JUSTCLICK_USERNAME"],
        timeout=app.config["JUSTCLICK_TIMEOUT"],
        connect_timeout=app.config["JUSTCLICK_CONNECT_TIMEOUT"],
    )
    if app.config["SANDBOX"]:
        # The stand-in runs inside this process (no HTTP to ourselves); its order book is a file so
        # that every worker sees the same accepted orders.
        from webapp.sandbox.standin import OrderBook, WSGIAdapter, create_sandbox_app

        book = OrderBook(os.path.join(app.instance_path, "sandbox-orders.sqlite3"))
        stand_in = create_sandbox_app(
            app.config["JUSTCLICK_API_KEY"], login=app.config["JUSTCLICK_USERNAME"], book=book,
            slow_seconds=app.config["JUSTCLICK_TIMEOUT"] + 2,
        )
        client.session.mount(SANDBOX_API_URL.removesuffix("api/"), WSGIAdapter(stand_in))
        return client, {"sandbox_book": book, "sandbox_app": stand_in}  # the app: its payment pages
    return client, {}
