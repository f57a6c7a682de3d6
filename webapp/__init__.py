"""Order Desk: create JustClick orders from one safe form."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from flask import Flask, jsonify

from webapp.attempts.journal import Journal
from webapp.attempts.order_index import RecentOrders
from webapp.attempts.tokens import SubmissionTokens
from webapp.auth.language import account_timezone, choose_language
from webapp.bulk.store import BulkTables
from webapp.config import SANDBOX_API_URL, SESSION_KEPT_AFTER_SIGN_IN_HOURS, ConfigError, load_config
from webapp.justclick.catalog import CatalogService
from webapp.justclick.client import JustClickClient
from webapp.storage import Stores, open_stores
from webapp.web import sessions
from webapp.web.extensions import babel, compress, csrf, htmx, limiter
from webapp.web.instance import check_instance_folder, check_store_folders, instance_secret, refuse_to_start
from webapp.web.services import Services, install

__version__ = "0.1.0"


def create_app(test_config: dict | None = None) -> Flask:
    # Sessions, history, tokens and the list cache live in the instance folder (unless in Redis).
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_path=os.path.abspath(instance) if instance else None)
    try:
        app.config.from_mapping(load_config(os.environ))
    except ConfigError as exc:
        refuse_to_start(str(exc))
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
    check_instance_folder(app)
    if not app.config["SANDBOX"] and not app.config["ACCOUNT_TIMEZONE"]:
        logging.getLogger(__name__).warning(
            "ACCOUNT_TIMEZONE is not set: an invoice whose creation time JustClick gives as a local "
            "date-time is offered to the operator to choose, never attached by itself. Set it to the "
            "account's zone (e.g. Europe/Moscow) to make invoice lookups automatic.")
    if not app.config["SECRET_KEY"]:  # only in sandbox mode: load_config insists elsewhere
        app.config["SECRET_KEY"] = instance_secret(app)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config["SESSION_LIFETIME_HOURS"] + SESSION_KEPT_AFTER_SIGN_IN_HOURS)

    stores = open_stores(app.config, app.instance_path)
    sessions.init_app(app, stores)
    compress.init_app(app)  # first, so that it runs last: it compresses the finished response
    htmx.init_app(app)
    babel.init_app(app, default_translation_directories=str(Path(__file__).parent / "translations"),
                   default_locale=app.config["DEFAULT_LOCALE"], locale_selector=choose_language,
                   timezone_selector=account_timezone)
    limiter.init_app(app)

    client, sandbox = _justclick_client(app)
    install(app, _services(app, stores, client, sandbox))
    check_store_folders(app, stores)

    from webapp import templating
    from webapp.attempts import sending, team_views
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
    app.register_blueprint(team_views.bp)
    app.register_blueprint(bulk_views.bp)
    app.register_blueprint(sandbox_views.bp)
    language.init_app(app)
    errors.register(app)
    app.add_url_rule("/healthz", "health", lambda: jsonify(
        status="ok", version=__version__, mode="sandbox" if app.config["SANDBOX"] else "live"))
    templating.init_app(app)
    return app


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
        archive=stores.archive,
        preferences=stores.preferences,
        tables=BulkTables(stores.tables, lifetime),
        # On this instance's disk even with Redis: it holds what Redis could not take.
        journal=Journal(os.path.join(app.instance_path, "journal.jsonl")),
        **sandbox,
    )


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
