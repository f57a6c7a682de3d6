"""The team's Orders page: every order any operator sent through the desk, newest first, found and
filtered by what its URL says, and exported as it is filtered. It asks JustClick nothing itself: rows
whose payment status is due are refreshed one by one as they come into view (attempts.views)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, request
from flask_babel import lazy_gettext as _l

from webapp.attempts import exports, history, team_orders
from webapp.attempts.team_orders import Filters
from webapp.auth.team import operator_name
from webapp.web.pages import page_or_region
from webapp.web.services import services

bp = Blueprint("team", __name__)

#: The payment states the list filters by (team_orders.STATES), in the operator's language.
STATES = {"waiting": _l("Waiting for payment"), "paid": _l("Paid"), "cancelled": _l("Cancelled"),
          "unknown": _l("Unknown outcome")}

#: An export holds at most this many orders (the newest), so that one click cannot tie up a worker.
EXPORT_LIMIT = 10_000


def _find(filters: Filters, catalog) -> team_orders.Page:
    config = current_app.config
    found = team_orders.find(services().archive, filters, operator=operator_name(), now=datetime.now(UTC),
                             zone=config["ACCOUNT_TIMEZONE"], catalog=catalog,
                             region=config["DEFAULT_PHONE_REGION"])
    return team_orders.Page([history.as_known(row) for row in found.rows], found.more)


@bp.get("/orders")
def page():
    filters = Filters.from_args(request.args)
    catalog = services().catalog.kept()  # names only: the page asks JustClick nothing
    found = _find(filters, catalog)
    return page_or_region("attempts/orders.html", "attempts/orders_list.html", filters=filters, found=found,
                          entries=found.rows, catalog=catalog, states=STATES, now=datetime.now(UTC),
                          retention=current_app.config["ORDER_RETENTION_DAYS"])


def _records(filters: Filters) -> list[dict]:
    """The whole records of every order the filters find (every page), newest first."""
    catalog = services().catalog.kept()
    everything = Filters(**{**filters.__dict__, "page": 1})
    archive, config = services().archive, current_app.config
    since, until = everything.window(datetime.now(UTC), config["ACCOUNT_TIMEZONE"])
    rows = team_orders.matching(archive.rows(since, until, limit=EXPORT_LIMIT), everything,
                                operator=operator_name(), catalog=catalog,
                                region=config["DEFAULT_PHONE_REGION"])
    return [history.as_known(record) for row in rows if (record := archive.get(row["id"]))]


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
