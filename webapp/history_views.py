"""The history blueprint: the operator's attempts, each attempt's page and its invoice, the export."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from . import exports, history, invoice_lookup
from .extensions import htmx
from .invoice_lookup import Look
from .pages import page_or_region

log = logging.getLogger(__name__)
bp = Blueprint("history", __name__)


def _recent_attempts() -> list[dict] | None:
    """The newest attempts for the panel; None when the store fails, so that a page that must be
    shown (an order's outcome) is not lost to its side panel."""
    try:
        return history.entries(limit=10)
    except Exception:
        log.warning("history panel: the store is not answering")
        return None


@bp.app_context_processor
def template_helpers():
    return {"recent_attempts": _recent_attempts, "kept_invoice": invoice_lookup.kept_invoice,
            "pay_status_label": history.pay_status_label, "lookable": invoice_lookup.LOOKABLE,
            "lookup_tries": invoice_lookup.TRIES, "lookup_retry_seconds": invoice_lookup.RETRY_SECONDS}


def _catalog():
    return current_app.extensions["catalog"].get()


# --- one attempt ---------------------------------------------------------------------------------


@bp.get("/attempts/<entry_id>")
def attempt(entry_id):
    entry = history.find(entry_id) or abort(404)
    return page_or_region("attempt.html", "partials/result.html", entry=entry, catalog=_catalog())


@bp.route("/attempts/<entry_id>/invoice", methods=["GET", "POST"])
def invoice(entry_id):
    """The attempt's invoice region. GET (htmx, when the region loads) looks only while nothing is
    kept; POST ("Find the invoice", "Look again", "Refresh status") always looks. Without
    JavaScript the answer is the attempt's page, showing what the look found."""
    entry = history.find(entry_id) or abort(404)
    if entry["outcome"] not in invoice_lookup.LOOKABLE:
        abort(404)  # refused or never sent: there is no invoice to look for
    if request.method == "GET" and invoice_lookup.kept_invoice(entry):
        look = Look("found", entry)  # kept: no call
    else:
        look = invoice_lookup.look_up(entry)
    tries = 1 if request.method == "POST" else max(1, request.args.get("try", 1, type=int))
    context = {"entry": look.entry, "look": look, "tries": tries, "catalog": _catalog(),
               "settles_in": invoice_lookup.seconds_until_settled(look.entry)}
    if not htmx:
        response = Response(render_template("attempt.html", **context))
    else:
        response = Response(render_template("partials/invoice_state.html", **context))
        if look.settled:  # the outcome changed: the heading above and the history panel follow
            response.headers["HX-Trigger"] = "history-changed"
    response.vary.add("HX-Request")
    return response


@bp.get("/attempts/<entry_id>/payment-status")
def payment_status(entry_id):
    """One history row's payment status, read afresh when the kept one is over a minute old."""
    entry = history.find(entry_id) or abort(404)
    look = invoice_lookup.look_up(entry) if invoice_lookup.status_due(entry) else Look("found", entry)
    return render_template("partials/pay_status.html", e=look.entry, look=look, refreshed=True)


# --- the history --------------------------------------------------------------------------------


@bp.get("/history")
def page():
    outcome = request.args.get("outcome") or None
    if outcome and outcome not in history.OUTCOMES:
        outcome = None
    return page_or_region("history.html", "partials/history_list.html", entries=history.entries(outcome),
                          outcome=outcome, outcomes=history.OUTCOMES, dropped=history.dropped())


@bp.get("/history/panel")
def panel():
    return render_template("partials/history_panel.html", entries=history.entries(limit=10),
                           outcomes=history.OUTCOMES, dropped=history.dropped())


@bp.get("/history.csv")
def csv():
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return exports.csv_response(history.CSV_COLUMNS, history.export_rows(history.entries()),
                                f"order-history-{stamp}")


@bp.get("/history.xlsx")
def xlsx():
    """The same table as the CSV, each cell text: Excel shows phones with their + and no formulas."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return exports.xlsx_response(history.CSV_COLUMNS, history.export_rows(history.entries()),
                                 f"order-history-{stamp}", title="history")


@bp.route("/history/clear", methods=["GET", "POST"])
def clear():
    if request.method == "GET":  # the question, for browsers without JavaScript
        return render_template("history_clear.html", count=len(history.entries()))
    history.clear()
    return redirect(url_for(".page"), 303)
