"""The team's Orders page: every order any operator sent through the desk, newest first, found and
filtered by what its URL says, and exported as it is filtered. Rendering it asks JustClick nothing;
while it is open, its unpaid invoices are read afresh one at a time, paced (attempts.status_refresh),
and JustClick's paid-invoice notifications ask for theirs at once."""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from webapp.attempts import exports, history, status_refresh, team_chart, team_orders
from webapp.attempts.team_orders import Filters
from webapp.auth.team import operator_name
from webapp.web.extensions import csrf, htmx, limiter
from webapp.web.pages import page_or_region
from webapp.web.services import services

log = logging.getLogger(__name__)
bp = Blueprint("team", __name__)

#: The payment states the list filters by (team_orders.STATES), in the operator's language.
STATES = {"waiting": history.PAY_STATUSES["waiting"], "paid": history.PAY_STATUSES["paid"],
          "cancelled": history.PAY_STATUSES["cancel"], "unknown": _l("Unknown outcome")}

#: An export holds at most this many orders (the newest), so that one click cannot tie up a worker.
EXPORT_LIMIT = 10_000


def _find(filters: Filters, catalog) -> team_orders.Page:
    config = current_app.config
    found = team_orders.find(services().archive, filters, operator=operator_name(), now=datetime.now(UTC),
                             zone=config["ACCOUNT_TIMEZONE"], catalog=catalog)
    return team_orders.Page([history.as_known(row) for row in found.rows], found.more)


@bp.get("/orders")
def page():
    filters = Filters.from_args(request.args)
    catalog = services().catalog.kept()  # names only: the page asks JustClick nothing
    found = _find(filters, catalog)
    unpaid = [row["id"] for row in found.rows
              if row.get("invoice") and team_orders.state_of(row) == "waiting"]
    context = {"filters": filters, "found": found, "entries": found.rows, "catalog": catalog,
               "now": datetime.now(UTC), "refresh_ids": unpaid,
               "refresh_seconds": status_refresh.REFRESH_SECONDS}
    if htmx:  # the list alone
        return page_or_region("attempts/orders.html", "attempts/orders_list.html", **context)
    config = current_app.config
    return page_or_region(
        "attempts/orders.html", "attempts/orders_list.html", **context, states=STATES,
        retention=config["ORDER_RETENTION_DAYS"],
        notify_url=url_for(".paid_notification", _external=True,
                           key=notification_secret(config["SECRET_KEY"])))


@bp.get("/orders/chart")
def chart():
    """The last 30 days, asked for by the Orders page once it is shown (a month of orders is counted
    in up to a tenth of a second: the list does not wait for it); a page of its own without JavaScript."""
    zone = current_app.config["ACCOUNT_TIMEZONE"]
    drawn = team_chart.last_days(services().archive, datetime.now(UTC), zone)
    return page_or_region("attempts/orders_chart_page.html", "attempts/orders_chart.html", chart=drawn)


def _records(filters: Filters) -> list[dict]:
    """The whole records of every order the filters find (every page), newest first."""
    archive = services().archive
    since, until = filters.window(datetime.now(UTC), current_app.config["ACCOUNT_TIMEZONE"])
    words = team_orders.words_of(filters, operator_name(), services().catalog.kept())
    found = archive.records(since, until, limit=EXPORT_LIMIT, words=words)
    return [history.as_known(record) for record in found]


@bp.get("/orders.csv")
def csv():
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    records = _records(Filters.from_args(request.args))
    return exports.csv_response(history.CSV_COLUMNS, history.export_rows(records), f"team-orders-{stamp}")


@bp.get("/orders.xlsx")
def xlsx():
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    records = _records(Filters.from_args(request.args))
    return exports.xlsx_response(history.CSV_COLUMNS, history.export_rows(records), f"team-orders-{stamp}",
                                 title="orders")


@bp.get("/orders/<entry_id>/reminder")
def reminder(entry_id):
    """A reminder for an unpaid invoice, to copy for the customer, in the operator's language."""
    entry = history.find(entry_id)
    if not entry or not entry.get("invoice"):
        abort(404)
    return page_or_region("attempts/reminder.html", "attempts/reminder_box.html", entry=entry,
                          invoice=entry["invoice"], catalog=services().catalog.kept())


# --- payment statuses kept fresh ----------------------------------------------------------------------


@bp.post("/orders/refresh")
def refresh():
    """One unpaid invoice of the page read afresh (status_refresh paces them); its row, sent to replace
    the row on the page, and the page's next ask."""
    ids = request.form.get("ids", "").split(",")[:team_orders.PAGE_SIZE]
    entry = status_refresh.refresh_one(ids)
    return render_template("attempts/orders_refresh.html", ids=ids, entry=entry and history.as_known(entry),
                           catalog=services().catalog.kept(), now=datetime.now(UTC),
                           wait=status_refresh.PAUSE_SECONDS if status_refresh.paused()
                           else status_refresh.REFRESH_SECONDS)


def notification_secret(secret_key) -> str:
    """The secret in the address JustClick notifies paid invoices at: the team's, derived from SECRET_KEY."""
    return hmac.new(str(secret_key).encode(), b"paid-invoice notifications", "sha256").hexdigest()[:32]


@bp.route("/notify/paid", methods=["GET", "POST"])
@limiter.limit("60 per minute")  # per address: JustClick's calls are not held up by anyone else's
def paid_notification():
    """JustClick's "URL for API notifications about the paid invoice". The one page open without
    signing in: it answers alike whatever it is sent, acts only on an invoice the desk already has (and
    only by reading it back). Its secret is in the query string, which no log line keeps (the desk's
    and gunicorn's write paths without it); nor do they keep what the notification says."""
    given = request.args.get("key", "").encode()
    if hmac.compare_digest(given, notification_secret(current_app.config["SECRET_KEY"]).encode()):
        try:
            status_refresh.notified_paid(request.values.get("id", ""))
        except Exception:
            log.exception("a paid-invoice notification could not be acted on")
    return "OK", 200, {"Content-Type": "text/plain; charset=utf-8"}


csrf.exempt(paid_notification)  # JustClick posts it: no form of ours, no token
