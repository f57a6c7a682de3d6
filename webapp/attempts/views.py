"""The history blueprint: the operator's attempts, each attempt's page and its invoice, the export."""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from webapp.attempts import exports, history, invoice_lookup, listing
from webapp.attempts.invoice_lookup import Look
from webapp.attempts.outcomes import LOOKABLE, UNRESOLVED
from webapp.auth.team import current_operator
from webapp.web.errors import render_error
from webapp.web.extensions import htmx
from webapp.web.pages import page_or_region
from webapp.web.services import services

log = logging.getLogger(__name__)
bp = Blueprint("history", __name__)


def _catalog():
    return services().catalog.get()


# --- one attempt ---------------------------------------------------------------------------------


@bp.get("/attempts/<entry_id>")
def attempt(entry_id):
    entry = history.find(entry_id) or abort(404)
    return page_or_region("attempts/attempt.html", "attempts/result.html", entry=entry, catalog=_catalog())


@bp.route("/attempts/<entry_id>/invoice", methods=["GET", "POST"])
def invoice(entry_id):
    """The attempt's invoice region. GET (htmx, when the region loads) looks only while nothing is
    kept; POST ("Find the invoice", "Look again", "Refresh status") always looks. Without
    JavaScript the answer is the attempt's page, showing what the look found."""
    entry = _lookable(entry_id)
    if request.method == "GET" and invoice_lookup.kept_invoice(entry):
        look = Look("found", entry)  # kept: no call
    else:
        look = invoice_lookup.look_up(entry)
    tries = 1 if request.method == "POST" else max(1, request.args.get("try", 1, type=int))
    return _region(look, tries)


@bp.post("/attempts/<entry_id>/invoice/choose")
def choose_invoice(entry_id):
    """The operator names the attempt's invoice among the candidates a look offered."""
    entry = _lookable(entry_id)
    return _region(invoice_lookup.choose(entry, request.form.get("bill_id", ""), current_operator() or {}))


@bp.post("/attempts/<entry_id>/invoice/none")
def none_of_these(entry_id):
    entry = _lookable(entry_id)
    try:
        entry = invoice_lookup.none_of_these(entry, request.form.getlist("bill_id"))
    except Exception:
        log.exception("the operator's answer for attempt %s could not be kept", entry_id)
        return render_error(503, _("The desk could not keep your answer (its store is not answering). "
                                   "Nothing changed: try again in a minute."))
    return _region(Look("not_listed", entry))


@bp.post("/attempts/<entry_id>/not-made")
def not_made(entry_id):
    """An operator's word, having looked in JustClick, that an unknown attempt made no order."""
    entry = history.find(entry_id) or abort(404)
    if entry["outcome"] not in UNRESOLVED:
        return redirect(url_for(".attempt", entry_id=entry_id), 303)  # settled meanwhile: show how
    try:
        invoice_lookup.not_made(entry, current_operator() or {})
    except Exception:
        log.exception("the decision on attempt %s could not be kept", entry_id)
        return render_error(503, _("The desk could not keep your decision (its store is not answering), "
                                   "so the order is still held as unknown: try again in a minute."))
    return redirect(url_for(".attempt", entry_id=entry_id), 303)


def _lookable(entry_id: str) -> dict:
    entry = history.find(entry_id) or abort(404)
    if entry["outcome"] not in LOOKABLE:
        abort(404)  # refused, never sent, or settled as not made: there is no invoice to look for
    return entry


def _region(look: Look, tries: int = 1) -> Response:
    """The invoice region as the look left it. A look that settled the outcome changes what the whole
    page must say (the order exists: no live form, no "check before sending"), so with htmx the
    attempt's result replaces the page's order area; without, the attempt's page is the answer."""
    context = {"entry": look.entry, "look": look, "tries": tries, "catalog": _catalog()}
    if not htmx:
        response = Response(render_template("attempts/attempt.html", **context))
    elif look.settled:
        current = urlsplit(request.headers.get("HX-Current-URL", "")).path
        on_order_page = current == url_for("orders.new_order")
        response = Response(render_template("attempts/result.html", with_summary=on_order_page, **context))
        response.headers.update({"HX-Retarget": "#order-area", "HX-Reswap": "outerHTML",
                                 "HX-Trigger": "history-changed",
                                 "HX-Push-Url": url_for(".attempt", entry_id=look.entry["id"])})
    else:
        response = Response(render_template("attempts/invoice_state.html", **context))
    response.vary.add("HX-Request")
    return response


@bp.get("/attempts/<entry_id>/payment-status")
def payment_status(entry_id):
    """One history row's payment status, read afresh when the kept one is over a minute old."""
    entry = history.find(entry_id) or abort(404)
    look = invoice_lookup.look_up(entry) if invoice_lookup.status_due(entry) else Look("found", entry)
    return render_template("attempts/pay_status.html", e=look.entry, look=look, refreshed=True)


# --- the history --------------------------------------------------------------------------------


@bp.get("/history")
def page():
    outcome = request.args.get("outcome") or None
    if outcome and outcome not in history.OUTCOMES:
        outcome = None
    query = request.args.get("q", "").strip()[:200]
    catalog = services().catalog.kept()  # names only: the page asks JustClick nothing
    entries = listing.matching(history.entries(outcome), query, catalog,
                               current_app.config["DEFAULT_PHONE_REGION"])
    return page_or_region("attempts/history.html", "attempts/history_list.html",
                          entries=entries, outcome=outcome, query=query, outcomes=history.OUTCOMES,
                          dropped=history.dropped(), catalog=catalog)


@bp.get("/history/panel")
def panel():
    return render_template("attempts/history_panel.html", entries=history.entries(limit=10),
                           outcomes=history.OUTCOMES, dropped=history.dropped(),
                           catalog=services().catalog.kept())


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
        return render_template("attempts/history_clear.html", count=len(history.entries()))
    history.clear()
    return redirect(url_for(".page"), 303)
