"""Sessions and rate limits on the stores' backend (Redis, or files of the instance folder), and a
session save that never takes a sent order's outcome away from the operator."""

from __future__ import annotations

import redis
from flask import Flask, g

from webapp.storage import SESSION_KEY_PREFIX, Stores
from webapp.web.extensions import server_session


def init_app(app: Flask, stores: Stores) -> None:
    """Points Flask-Session and the rate limiter at the stores' backend."""
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
