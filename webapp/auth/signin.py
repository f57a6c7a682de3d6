"""Team sign-in: who may use the desk, and the gate every request passes."""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter

import click
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from limits import parse as parse_limit
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms.validators import InputRequired, Length

from webapp.auth import signin_token
from webapp.auth.preferences import address_language, keep_language
from webapp.auth.team import DEMO_USER, safe_next, team_users
from webapp.orders.form import PRODUCT_KEY, OrderForm, _strip, short
from webapp.orders.widgets import HiddenField, PasswordField, StringField
from webapp.web.extensions import csrf, htmx, limiter

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

#: Endpoints anyone may reach: the sign-in page, the PaaS health check, static files, and the address
#: JustClick notifies paid invoices at (guarded by the secret in its path).
PUBLIC_ENDPOINTS = {"auth.login", "auth.logout", "health", "static", "team.paid_notification"}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(_l("Enter your username.")), short(64)],
                           filters=[_strip])
    password = PasswordField(_l("Password"),
                             validators=[InputRequired(_l("Enter your password.")), short(200)])
    next = HiddenField("")


# Failed sign-ins. Refused: 5 for one username from one address, 20 from one address whatever the
# username. Never refused for the username alone (anyone could lock an operator out): past 5
# failures from anywhere, each sign-in for it waits SIGN_IN_DELAY seconds first.
FAILED_FROM_ADDRESS_FOR_USER = "5 per 5 minutes"
FAILED_FROM_ADDRESS = "20 per 5 minutes"
FAILED_FOR_USER = parse_limit("5 per 5 minutes")
SIGN_IN_DELAY = 2.0


def _username_key(username: str | None) -> str:
    return (username or "").strip().casefold()  # OLGA and olga are one operator to the limits


def _address_and_username() -> str:
    return f"{get_remote_address()}|{_username_key(request.form.get('username'))}"


def _wait_if_targeted(username: str) -> None:
    if not limiter.limiter.test(FAILED_FOR_USER, "sign-in-user", _username_key(username)):
        log.warning("sign-in slowed user=%r: many failures for this username", username)
        time.sleep(current_app.config["SIGN_IN_DELAY"])


def _count_failure(username: str) -> None:
    limiter.limiter.hit(FAILED_FOR_USER, "sign-in-user", _username_key(username))


def _failed_only(response) -> bool:
    return response.status_code != 303  # a successful sign-in redirects; anything else is a failure


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.before_request(_require_operator)
    signin_token.init_app(app)
    app.cli.add_command(hash_password)
    app.config.setdefault("SIGN_IN_DELAY", SIGN_IN_DELAY)
    if app.config["SANDBOX"] and not app.config["TEAM_USERS"]:
        # Hashed once: the gate looks the operator up on every request, and scrypt takes ~100 ms.
        app.extensions["demo_users"] = {DEMO_USER["username"]: {
            "password_hash": generate_password_hash(DEMO_USER["password"]), "name": "Demo operator"}}
        log.info("sandbox sign-in: username %r, password %r", DEMO_USER["username"], DEMO_USER["password"])


def _require_operator():
    username = session.get("operator")
    user = team_users(current_app).get(username) if username else None
    if user is not None and _signed_in_lately():
        g.operator = {"username": username, "name": user.get("name") or username,
                      "manager_id": user.get("manager_id")}
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if username and request.method == "POST" and request.endpoint == "orders.submit" and _same_origin():
        # An operator whose sign-in just ended keeps what they typed across signing in again, in the
        # session that still names them. Nobody else gets a session, let alone a stored form; and
        # only same-origin posts, so another site cannot plant an order in someone's next form.
        session["pending_order"] = _order_fields_only(request.form)
        target = url_for("orders.new_order")
    else:
        wanted = request.full_path.rstrip("?")
        target = wanted if request.method == "GET" and not htmx else url_for("orders.new_order")
    login_url = url_for("auth.login", next=target)
    if htmx:  # a sign-in page swapped into a panel helps nobody: send the whole browser there
        return "", 204, {"HX-Redirect": login_url}
    return redirect(login_url, 303)


def _signed_in_lately() -> bool:
    """A sign-in lasts SESSION_LIFETIME_HOURS; its session is kept a while longer (see create_app)."""
    signed_in_at = session.get("signed_in_at")
    lifetime = current_app.config["SESSION_LIFETIME_HOURS"] * 3600
    return isinstance(signed_in_at, int | float) and 0 <= time.time() - signed_in_at < lifetime


def _order_fields_only(posted) -> dict:
    """The posted fields the order form defines, each cut to that field's limit: the body limit
    alone would let one post keep half a megabyte in the session."""
    limits = {}
    for field in OrderForm(formdata=None, meta={"csrf": False}):
        for part in (field[0] if field.name == "products" else [field]):
            limits[part.short_name if field.name == "products" else part.name] = next(
                (v.max for v in part.validators if isinstance(v, Length) and v.max > 0), 100)
    kept = {}
    for name, value in posted.items():
        line = PRODUCT_KEY.match(name)
        if line and int(line[1]) >= OrderForm.products.kwargs["max_entries"]:
            continue
        limit = limits.get(line[2] if line else name)
        if limit and name not in ("csrf_token", "submission_token"):
            kept[name] = value[:limit]
    return kept


def _same_origin() -> bool:
    return request.headers.get("Origin", "").rstrip("/") == request.host_url.rstrip("/")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(FAILED_FROM_ADDRESS, key_func=get_remote_address, methods=["POST"], deduct_when=_failed_only)
@limiter.limit(FAILED_FROM_ADDRESS_FOR_USER, key_func=_address_and_username, methods=["POST"],
               deduct_when=_failed_only)
def login():
    form = LoginForm(next=request.args.get("next"), meta={"csrf": False})  # see signin_token
    status = 200
    if request.method == "POST" and _token_refused():
        form.process(request.form)
        form.password.errors = [
            _("This sign-in form had expired or did not come from the desk. Sign in again.")]
        status = 400
    elif form.validate_on_submit():
        _wait_if_targeted(form.username.data)
        user = team_users(current_app).get(form.username.data)
        # The same work whether or not the user exists, so timing does not reveal team usernames.
        stored = user["password_hash"] if user else _dummy_hash()
        if check_password_hash(stored, form.password.data) and user:
            pending = session.get("pending_order")
            session.clear()
            session.permanent = True
            session["operator"] = form.username.data
            session["signed_in_at"] = time.time()
            if pending:
                session["pending_order"] = pending
            # A new session id at sign-in: a session id planted before it is worth nothing after.
            current_app.session_interface.regenerate(session)
            if address_language():  # chosen on the sign-in page: the operator's choice now
                keep_language(form.username.data, address_language())
            log.info("sign-in ok user=%r", form.username.data)
            return redirect(safe_next(form.next.data), 303)
        log.info("sign-in failed user=%r", form.username.data)
        _count_failure(form.username.data)
        form.password.errors.append(_("Wrong username or password."))
        status = 401
    elif request.method == "POST":
        status = 400
    demo = DEMO_USER if current_app.config["SANDBOX"] and not current_app.config["TEAM_USERS"] else None
    return render_template("auth/login.html", form=form, demo=demo), status


def _token_refused() -> bool:
    return current_app.config.get("WTF_CSRF_ENABLED", True) and not signin_token.valid(
        request.form.get("csrf_token"))


csrf.exempt(login)  # its token lives in a cookie, not in a session (signin_token)


@bp.post("/logout")
def logout():
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"), 303)


def _dummy_hash() -> str:
    """A hash made the way the team's are (method and cost), so that checking a password against it
    takes as long as checking a team member's: sign-in time must not tell which usernames exist."""
    app = current_app
    if "dummy_hash" not in app.extensions:
        methods = Counter(user["password_hash"].split("$", 1)[0] for user in team_users(app).values())
        method = methods.most_common(1)[0][0] if methods else "scrypt"
        app.extensions["dummy_hash"] = generate_password_hash(secrets.token_hex(16), method=method)
    return app.extensions["dummy_hash"]


@bp.errorhandler(429)
def too_many_sign_ins(exc):
    form = LoginForm(meta={"csrf": False})
    return render_template("auth/login.html", form=form, demo=None, throttled=True), 429


@click.command("hash-password")
@click.password_option("--password", prompt="Password", help="The password to hash.")
def hash_password(password: str) -> None:
    """Print a password hash to paste into TEAM_USERS."""
    click.echo(generate_password_hash(password))
