"""The "Many orders" blueprint: bring a table in, map and check it, send it row by row, see the result.

Every htmx request here is also a plain form post: without JavaScript the answer is a 303 back to the
table's page (one row sent per "Send next row")."""

from __future__ import annotations

import logging
from collections import Counter

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from webapp.attempts import exports, history
from webapp.attempts.invoice_lookup import kept_invoice
from webapp.attempts.outcomes import LOOKABLE, PENDING, RETRYABLE
from webapp.auth.team import current_operator, operator_name
from webapp.bulk import invoices as bulk_invoices
from webapp.bulk import run as bulk_run
from webapp.bulk.check import check_table, check_table_row, total_of
from webapp.bulk.run import outcome_label
from webapp.bulk.sample import sample_csv
from webapp.bulk.table import (
    MAX_CELL,
    MAX_ROWS,
    TableError,
    date_only_columns,
    field_choices,
    guess_mapping,
    is_totals_row,
    read_paste,
    read_upload,
    value_key,
)
from webapp.web.extensions import htmx
from webapp.web.services import services

log = logging.getLogger(__name__)
bp = Blueprint("bulk", __name__, url_prefix="/bulk")


def _tables():
    return services().tables


def _catalog():
    return services().catalog.get()


def _table(table_id: str) -> dict:
    hid = history.history_id()
    table = _tables().get(hid, table_id) if hid else None
    return table if table is not None else abort(404)


def _save(table: dict) -> None:
    _tables().put(history.history_id(), table)


def _back(table: dict, anchor: str | None = None) -> Response:
    return redirect(url_for("bulk.table", table_id=table["id"], _anchor=anchor), 303)


# --- bringing a table in -----------------------------------------------------------------------------


@bp.get("")
def intake():
    return render_template("bulk/intake.html", max_rows=MAX_ROWS)


@bp.post("")
def upload():
    paste = request.form.get("paste", "")
    file = request.files.get("file")
    try:
        if file and file.filename:
            source, found = file.filename, read_upload(file.filename, file.read())
        elif paste.strip():
            source, found = _("pasted cells"), read_paste(paste)
        else:
            raise TableError(_("Paste the cells of a table, or choose a .csv or .xlsx file."))
    except TableError as exc:
        page = render_template("bulk/intake.html", max_rows=MAX_ROWS, error=str(exc), paste=paste)
        return make_response(page, 422)
    tokens = services().tokens
    table = {"source": source, "headers": found.headers, "mapping": guess_mapping(found.headers),
             "state": "draft", "message": "", "skipped": list(found.skipped),
             "rows": [{"line": line, "cells": cells, "token": tokens.new(operator_name()), "entry": None}
                      for line, cells in found.rows]}
    for row in table["rows"]:  # set aside, not dropped: the operator sees it and may include it
        if is_totals_row(row["cells"]):
            row.update(excluded=True, set_aside="totals")
    table_id = _tables().new(history.history_id(), table)
    return redirect(url_for("bulk.table", table_id=table_id), 303)


@bp.get("/sample.csv")
def sample():
    """A table to try the whole flow with in sandbox mode: good rows, bad rows and a magic email."""
    if not current_app.config["SANDBOX"]:
        abort(404)
    return Response(sample_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="sample-orders.csv"'})


# --- the table: preview, mapping, fixes ------------------------------------------------------------------


def _context(table: dict, edit: int | None = None) -> dict:
    """Everything the table's page shows: every row checked, and the run as the history knows it."""
    catalog = _catalog()
    checked = check_table(table, catalog)
    if table["state"] == "draft":  # keeps the rows' checks (never while a run writes the table)
        _save(table)
    count, total = total_of(checked, table["rows"])
    choices = field_choices()
    return {"checked": checked, "catalog": catalog, "choices": choices, "choices_by_name": dict(choices),
            "sending": count, "total": total, "edit": edit,
            "bad": [c for c in checked if not c.valid and not table["rows"][c.index].get("excluded")],
            "date_only": date_only_columns(table) if table["state"] == "draft" else [],
            "offer": _live_offer(table),
            # "errors only": the rows to fix, kept through the fixes (each form carries it)
            "only_errors": table["state"] == "draft" and request.values.get("errors") == "1",
            **_run_context(table, bulk_run.attempts(table))}


def _run_context(table: dict, attempts: dict) -> dict:
    """What the run's region shows. During a run, the table's own copies of its attempts are enough
    (nothing else changes them), so a step reads neither the whole history nor every row's check."""
    rows = table["rows"]
    entries = [row["entry"] for row in rows if row.get("entry")]
    outcomes = [attempts.get(entry.get("id"), entry)["outcome"] for entry in entries]
    return {"table": table, "attempts": attempts, "counts": Counter(outcomes),
            "run_total": sum(1 for row in rows if row.get("queued")),
            "run_done": sum(1 for row in rows if row.get("queued") and row.get("entry")),
            "retryable": sum(1 for outcome in outcomes if outcome in RETRYABLE),
            "unknown": sum(1 for outcome in outcomes if outcome in PENDING)}


@bp.get("/<table_id>")
def table(table_id):
    table = _table(table_id)
    if table["state"] == "running":  # the page was left while sending: the run waits to be continued
        table["state"] = "paused"
    edit = request.args.get("edit", type=int)
    context = _context(table, edit)
    response = make_response(render_template("bulk/table.html", **context,
                                             **_invoices_context(table, context["attempts"])))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<table_id>/mapping")
def mapping(table_id):
    table = _table(table_id)
    if table["state"] != "draft":
        abort(409)
    allowed = {name for name, _label in field_choices()}
    chosen = [request.form.get(f"col-{i}", "") for i in range(len(table["headers"]))]
    # a field filled by two columns: the first keeps it
    seen, mapping = set(), []
    for name in chosen:
        name = name if name in allowed and name not in seen else ""
        seen.add(name)
        mapping.append(name)
    # An answer about a column's dates holds while the column fills the same field.
    table["dates"] = {column: choice for column, choice in (table.get("dates") or {}).items()
                      if mapping[int(column)] == table["mapping"][int(column)]}
    table["mapping"] = mapping
    return _saved_preview(table)


@bp.route("/<table_id>/rows/<int:index>", methods=["GET", "POST"])
def row(table_id, index):
    """One row: shown for editing (GET ?edit), its cells fixed, or it excluded or included again."""
    table = _table(table_id)
    if not 0 <= index < len(table["rows"]):
        abort(404)
    row = table["rows"][index]
    if request.method == "GET":
        if not htmx:
            return redirect(url_for("bulk.table", table_id=table_id, edit=index, _anchor=f"row-{index}"))
        return _row_fragment(table, index, edit=True)
    if table["state"] != "draft" or row.get("entry"):
        abort(409)  # sent rows and a run in progress are not edited
    action = request.form.get("action", "save")
    if action == "exclude":
        row["excluded"] = True
    elif action == "include":
        row["excluded"] = False
    else:
        before = row["cells"]
        row["cells"] = [request.form.get(f"cell-{i}", cell).strip()[:MAX_CELL]
                        for i, cell in enumerate(before)]
        table["offer"] = _same_fix_offer(table, index, before)
    _save(table)
    if htmx:  # the other rows may have changed too (a repeat fixed, a row now a repeat): all of it
        return _region(table, "bulk/preview.html")
    return _back(table, f"row-{index}")


def _same_fix_offer(table: dict, index: int, before: list[str]) -> dict | None:
    """A value fixed in one cell that other cells of its column still hold: offered for them all."""
    for column, (old, new) in enumerate(zip(before, table["rows"][index]["cells"], strict=True)):
        if old and old != new:
            count = len(_holding(table, column, old))
            if count:
                return {"column": column, "old": old, "new": new, "count": count}
    return None


def _live_offer(table: dict) -> dict | None:
    """The offer as the table stands now (other fixes, exclusions or a run may have changed it)."""
    offer = table.get("offer")
    if not offer or table["state"] != "draft":
        return None
    count = len(_holding(table, offer["column"], offer["old"]))
    return {**offer, "count": count} if count else None


def _holding(table: dict, column: int, value: str) -> list[dict]:
    """The rows still to be sent whose cell in `column` is `value`."""
    return [row for row in table["rows"]
            if not row.get("entry") and not row.get("excluded") and row["cells"][column] == value]


@bp.post("/<table_id>/replace")
def replace(table_id):
    """The operator's fix of one cell, put in every other cell of the column holding the same value."""
    table = _table(table_id)
    column = request.form.get("column", type=int)
    old, new = request.form.get("old", ""), request.form.get("new", "").strip()[:MAX_CELL]
    if table["state"] != "draft" or column is None or not 0 <= column < len(table["headers"]) or not old:
        abort(400)
    for row in _holding(table, column, old):
        row["cells"][column] = new
    table.pop("offer", None)
    return _saved_preview(table)


@bp.post("/<table_id>/dates")
def answer_dates(table_id):
    """A column of dates without a time: read each at 00:00, or ignore the column."""
    table = _table(table_id)
    column = request.form.get("column", type=int)
    choice = request.form.get("choice")
    if table["state"] != "draft" or column not in date_only_columns(table) \
            or choice not in ("midnight", "ignore"):
        abort(400)
    table.setdefault("dates", {})[str(column)] = choice
    if choice == "ignore":
        table["mapping"][column] = ""
    return _saved_preview(table)


@bp.post("/<table_id>/products")
def accept_product(table_id):
    """The operator accepts a proposed product for every product cell holding this value."""
    table = _table(table_id)
    good_name = request.form.get("good_name", "")
    if table["state"] != "draft" or good_name not in _catalog().goods_by_name:
        abort(400)  # only a product of the shop, and only while the table can still change
    value = value_key(request.form.get("value", ""))[:MAX_CELL]
    if value:
        table.setdefault("accepted", {})[value] = good_name
    return _saved_preview(table)


def _saved_preview(table: dict) -> Response:
    """After a change to the table before sending: kept, and the preview shown again (the region with
    htmx, else the page)."""
    _save(table)
    if htmx:
        return _region(table, "bulk/preview.html")
    return _back(table)


def _region(table: dict, template: str, **extra) -> Response:
    response = make_response(render_template(template, **_context(table), **extra))
    response.vary.add("HX-Request")
    return response


def _row_fragment(table: dict, index: int, edit: bool) -> Response:
    catalog = _catalog()
    checked = check_table_row(table, index, catalog)
    return make_response(render_template("bulk/row.html", table=table, i=index,
                                         row=table["rows"][index], c=checked, edit=index if edit else None,
                                         attempts=bulk_run.attempts(table)))


# --- sending ---------------------------------------------------------------------------------------------


@bp.post("/<table_id>/send")
def send(table_id):
    """Start sending the checked rows, or continue a paused or stopped run."""
    table = _table(table_id)
    _tables().go_on(history.history_id(), table_id)
    if table["state"] == "draft":
        if not bulk_run.start(table, _catalog()):
            table["state"] = "draft"
            table["message"] = _("No row is ready to send: fix or include a row first.")
    elif table["state"] in ("paused", "stopped", "running"):
        bulk_run.resume(table)
    if not htmx:  # without JavaScript, each press sends one row
        bulk_run.step(table, current_operator() or {}, stopped=lambda: False, budget=0)
    _save(table)
    if htmx:  # the progress, and the rows as they will be while sending (no more edits)
        context = _context(table)
        return render_template("bulk/run.html", **context, go=table["state"] == "running") + \
            render_template("bulk/preview.html", **context, oob=True) + \
            render_template("bulk/invoices.html", oob=True, table=table,
                            **_invoices_context(table, context["attempts"]))
    return _back(table, "bulk-run")


@bp.post("/<table_id>/step")
def step(table_id):
    """Send the next rows; with htmx the answer asks for the step after it."""
    hid = history.history_id()
    table = _table(table_id)
    result = bulk_run.step(table, current_operator() or {}, stopped=lambda: _tables().stopped(hid, table_id))
    _save(table)
    if not htmx:
        return _back(table, "bulk-run")
    context = _run_context(table, {})
    html = render_template("bulk/run.html", **context, wait=result.wait,
                           go=table["state"] == "running")
    for index, checked in result.rows.items():  # each row's outcome, in its place in the table (out of band)
        html += render_template("bulk/row.html", oob=True, i=index, row=table["rows"][index],
                                c=checked, edit=None, **context)
    response = make_response(html)
    if result.rows:
        response.headers["HX-Trigger"] = "history-changed"
    return response


@bp.post("/<table_id>/invoices")
def invoices(table_id):
    """Look for the next customer's invoices; with htmx the answer asks for the next look, and the rows
    looked at are shown again in their places (out of band)."""
    table = _table(table_id)
    looks = bulk_invoices.look_next(table, bulk_run.attempts(table))
    if not htmx:
        return _back(table, "bulk-invoices")
    attempts = bulk_run.attempts(table)
    html = render_template("bulk/invoices.html", table=table,
                           **_invoices_context(table, attempts, looks.wait))
    if looks.rows:
        catalog = _catalog()
        for index in looks.rows:
            html += render_template("bulk/row.html", oob=True, i=index, row=table["rows"][index],
                                    c=check_table_row(table, index, catalog), edit=None, table=table,
                                    attempts=attempts)
    return make_response(html)


def _invoices_context(table: dict, attempts: dict, wait: float | None = 0.0) -> dict:
    """The invoices region: what was found, and when to look next (None: no more looks)."""
    catalog = _catalog()
    made, found = [], []
    for index, row in enumerate(table["rows"]):
        attempt = attempts.get((row.get("entry") or {}).get("id"))
        if attempt and attempt["outcome"] in LOOKABLE:
            made.append(index)
            invoice = kept_invoice(attempt)
            if invoice:
                found.append({"row": index + 1, "email": attempt["sent"].get("customer_email", ""),
                              "invoice": invoice, "message": _message(attempt, invoice, catalog)})
    waiting = bulk_invoices.awaiting(table, attempts)
    if wait == 0.0:  # a page or a run starting: look at once if there is anything to look for
        wait = None if not waiting and table["state"] != "running" else bulk_invoices.PAUSE_SECONDS
    return {"made": made, "found": found, "waiting": waiting, "next_look": wait}


def _message(attempt: dict, invoice, catalog) -> str:
    return render_template("attempts/customer_message.html", entry=attempt, invoice=invoice,
                           catalog=catalog).strip()


@bp.post("/<table_id>/stop")
def stop(table_id):
    table = _table(table_id)
    _tables().stop(history.history_id(), table_id)
    if table["state"] == "running":
        table.update(state="stopped", message=_("Stopped. The rows not sent yet are still queued."))
        _save(table)
    if htmx:
        return _region(table, "bulk/run.html", go=False)
    return _back(table, "bulk-run")


@bp.post("/<table_id>/retry")
def retry(table_id):
    table = _table(table_id)
    if table["state"] == "running":
        abort(409)
    bulk_run.retry_failed(table)
    _save(table)
    return _back(table)


def _result(table_id: str):
    """The result's columns and rows: outcome, JustClick's answer, invoice, then the table's cells."""
    table = _table(table_id)
    found = bulk_run.attempts(table)
    catalog = _catalog()
    columns = ["row", "outcome", "code", "text", "invoice_number", "amount", "payment_link", "message",
               "attempt", *table["headers"]]
    rows = []
    for number, row in enumerate(table["rows"], 1):
        entry = row.get("entry") or {}
        attempt = found.get(entry.get("id"), entry)
        invoice = kept_invoice(attempt) if attempt.get("invoice") else None
        outcome = attempt.get("outcome") or ("excluded" if row.get("excluded") else "unsent")
        rows.append([number, outcome_label(outcome), attempt.get("code") or "", attempt.get("text") or "",
                     attempt.get("bill_id") or (invoice.number if invoice else ""),
                     invoice.sum_to_pay if invoice and invoice.sum_to_pay is not None else "",
                     invoice.link or "" if invoice else "",
                     _message(attempt, invoice, catalog) if invoice else "",
                     entry.get("id") or "", *row["cells"]])
    return columns, rows


@bp.get("/<table_id>/result.csv")
def result_csv(table_id):
    return exports.csv_response(*_result(table_id), f"orders-{table_id}")


@bp.get("/<table_id>/result.xlsx")
def result_xlsx(table_id):
    """The result with every cell as text: phones keep their + and nothing is a formula."""
    return exports.xlsx_response(*_result(table_id), f"orders-{table_id}", title="orders")
