"""The history blueprint: the operator's attempts, each attempt's page and its invoice, the export."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from . import history
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
    return {"recent_attempts": _recent_attempts}


def _catalog():
    return current_app.extensions["catalog"].get()


# --- one attempt ---------------------------------------------------------------------------------


@bp.get("/attempts/<entry_id>")
def attempt(entry_id):
    entry = history.find(entry_id) or abort(404)
    return page_or_region("attempt.html", "partials/result.html", entry=entry, catalog=_catalog())


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
    return Response(history.to_csv(history.entries()), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="order-history-{stamp}.csv"'})


@bp.route("/history/clear", methods=["GET", "POST"])
def clear():
    if request.method == "GET":  # the question, for browsers without JavaScript
        return render_template("history_clear.html", count=len(history.entries()))
    history.clear()
    return redirect(url_for(".page"), 303)
