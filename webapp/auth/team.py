"""The team: who may use the desk, and who is signed in to this request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, url_for

DEMO_USER = {"username": "demo", "password": "demo"}


def team_users(app) -> dict:
    """username -> {password_hash, manager_id?, name?}; one demo account in sandbox mode without a team."""
    return app.config["TEAM_USERS"] or app.extensions.get("demo_users", {})


def current_operator() -> dict | None:
    return g.get("operator")


def operator_name() -> str:
    """The signed-in operator's username ("" for nobody): what one-time tokens are bound to."""
    return (current_operator() or {}).get("username", "")


def safe_next(target: str | None) -> str:
    """Only same-site paths: the sign-in page must not become an open redirect. Printable ASCII only:
    a line break would end the Location header (werkzeug refuses it, with a 500)."""
    parts = urlsplit(target or "")
    if (target and not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target
            and all(" " < char < "\x7f" for char in target)):
        return target
    return url_for("orders.new_order")
