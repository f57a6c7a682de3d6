"""The orders blueprint: the order page, submitting, and the small regions htmx swaps.

The history and attempt pages have their own blueprint (history_views), as has the sandbox."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict

from webapp.attempts import budget as order_budget
from webapp.attempts import history, invoice_lookup
from webapp.attempts.outcomes import MADE, Outcome
from webapp.attempts.sending import NotRecorded, send_order
from webapp.attempts.tokens import valid as valid_token
from webapp.auth.team import current_operator, operator_name
from webapp.i18n.saying import say
from webapp.orders import phones
from webapp.orders.form import (
    PHONE_FIELDS,
    OrderForm,
    data_from_attempt,
    fields_named,
    with_line_action,
)
from webapp.orders.order import summarize
from webapp.orders.paste import read_customer
from webapp.web.errors import MESSAGES, csrf_message, render_error
from webapp.web.extensions import htmx, limiter
from webapp.web.pages import page_or_region as _render
from webapp.web.services import services

log = logging.getLogger(__name__)
bp = Blueprint("orders", __name__)

#: Query parameters that may open a prefilled order (links from other tools).
PREFILL_FIELDS = ("customer_email", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def _catalog(refresh: bool = False):
    return services().catalog.get(refresh=refresh)


def _order_form(catalog, **kwargs) -> OrderForm:
    return OrderForm(catalog=catalog, default_region=current_app.config["DEFAULT_PHONE_REGION"],
                     timezone=current_app.config["ACCOUNT_TIMEZONE"], **kwargs)


def _order_page(form: OrderForm, catalog, status: int = 200, **context) -> Response:
    """The order form, with whatever banner the context brings (attempt, notice, earlier, paste).

    Focus goes where the operator must look next: a banner, else the error summary, else what the
    caller names."""
    if not form.submission_token.data:
        form.submission_token.data = services().tokens.new(operator_name())
    if any(context.get(banner) for banner in ("attempt", "notice", "earlier", "doubt")):
        context["focus"] = "outcome"
    elif form.errors:
        context["focus"] = "error-summary"
    return _render("orders/order.html", "orders/order_form.html", status, form=form, catalog=catalog,
                   **context)


def posted_order_again(status: int, notice: str) -> Response:
    """The posted order re-rendered as typed, with a fresh CSRF token and a notice; nothing sent."""
    catalog = _catalog()
    return _order_page(_order_form(catalog), catalog, status, notice=notice)


@bp.errorhandler(CSRFError)
def form_expired(exc):
    if request.endpoint != "orders.submit":
        return render_error(400, csrf_message(exc))
    if csrf_message(exc) != MESSAGES["csrf"]:  # not an expired form: say what happened instead
        return posted_order_again(400, str(csrf_message(exc)) + " " + _("Everything you typed is below."))
    return posted_order_again(400, _("This form had expired, so nothing was sent. Everything you typed "
                                     "is below: check it and send again."))


@bp.errorhandler(429)
def too_many_orders(exc):
    if request.endpoint != "orders.submit":
        return render_error(429, MESSAGES[429])
    return posted_order_again(429, _("Too many orders were sent from your account in the last minute "
                                     "(limit: %(limit)s). Nothing was sent: wait a moment and send again.",
                                     limit=exc.description))


# --- the order page -------------------------------------------------------------------------


@bp.get("/")
def new_order():
    catalog = _catalog()
    pending = session.pop("pending_order", None)
    if pending:  # typed before the session ended: restored as it was, not sent
        flash(_("Your session had ended. The order is as you left it: check it and send it again."), "info")
        form = _order_form(catalog, formdata=MultiDict(pending))
        return _order_page(form, catalog)
    data = {name: value for name in PREFILL_FIELDS if (value := request.args.get(name, "").strip())}
    source = history.find(request.args.get("from", ""))
    if source:
        data = data_from_attempt(source)
    # No sales manager by default: the field reassigns the customer's personal manager ("Me" is one click).
    return _order_page(_order_form(catalog, formdata=None, data=data), catalog)


def _not_an_order_to_send() -> bool:
    """Line actions are not orders; nor is a twin of a form already sent: it is answered with the
    first post's outcome, never with the rate limit."""
    if request.form.get("action"):
        return True
    try:
        return services().tokens.is_claimed(request.form.get("submission_token"))
    except Exception:  # the store is away: the view says so; the limit is not the answer
        return False


def _order_was_sent(_response) -> bool:
    return g.get("order_sent", False)


@bp.post("/")
@limiter.shared_limit(order_budget.limit_value, order_budget.SCOPE, key_func=order_budget.key,
                      exempt_when=_not_an_order_to_send, deduct_when=_order_was_sent)
def submit():
    action = request.form.get("action", "")
    if action == "paste":
        return _fill_from_paste()
    if action:  # a line added or removed, or lists refreshed: re-render, send nothing
        return _line_action(action)

    catalog = _catalog()
    form = _order_form(catalog)
    token, tokens = form.submission_token.data, services().tokens
    if valid_token(token) and not tokens.issued_to(token, operator_name()):
        # Another operator's form (or a forged token): it claims nothing, so its owner's own post
        # still sends the order. This operator gets the order back under a token of their own.
        form.submission_token.data = None
        return _order_page(form, catalog, 403, notice=_(
            "Nothing was sent: this form was opened by another sign-in. Check the order below and send "
            "it again."))
    if not form.validate():
        return _order_page(form, catalog, 422)
    doubt = form.status_doubt()  # sent as typed, once the operator confirms it is meant
    if doubt and doubt not in request.form.getlist("accept"):
        return _order_page(form, catalog, 409, doubt=doubt)

    params, extra = form.order()
    try:
        result = send_order(params, token=form.submission_token.data, confirmed=request.form.get("confirm"),
                            operator=current_operator() or {}, extra=extra, catalog=catalog)
    except NotRecorded:
        form.submission_token.data = None  # a fresh token: this form sent nothing
        return _order_page(form, catalog, 503, notice=_(
            "Nothing was sent: the desk could not record this order before sending it (its store is not "
            "answering). Everything you typed is below: try again in a minute."))
    if result.kind == "confirm":
        earlier = result.entry
        # Its invoice's payment link, when the team knows the number: what the customer needs, rather
        # than a second invoice (one read, and only when the desk is about to ask).
        invoice = invoice_lookup.invoice_by_number(earlier["bill_id"]) if earlier.get("bill_id") else None
        return _order_page(form, catalog, 409, earlier=earlier, order=params, earlier_invoice=invoice,
                           earlier_is_kept=history.find(earlier["id"]) is not None)
    if result.kind == "twin":  # this form was sent already: show what came of it, send nothing
        return _already_sent(result.entry, form, catalog)
    g.order_sent = True
    entry = result.entry
    if entry["outcome"] not in MADE:
        form.submission_token.data = None  # a corrected form is a new order
        rejected = entry["outcome"] == Outcome.REJECTED
        named = fields_named(entry.get("code"), entry.get("text", "")) if rejected else []
        for name in named:  # marked where they are, and their sections open
            form[name].errors = [*form[name].errors, _("JustClick refused the order over this field "
                                                       "(error %(code)s).", code=entry.get("code"))]
        response = _order_page(form, catalog, 422 if rejected else 502, attempt=entry,
                               named_fields=named)
        response.headers["HX-Trigger"] = "history-changed"  # the attempt is in the history too
        return response
    return _show_attempt(entry, catalog)


def _line_action(action: str) -> Response:
    """The form re-rendered after a line was added or removed, or the lists refreshed.

    With htmx, a line change answers with only the product lines: the rest of the form (the picker
    too) is as the operator left it in the browser, and the whole form is 40 KB. The page then asks
    for the summary through the summary's own queue, so answers land in the order they were asked."""
    catalog = _catalog(refresh=action == "refresh")
    unmatched = None
    if action.startswith("pick:"):  # the picker's text: its first match, as the picker lists them
        query = action.removeprefix("pick:").strip()
        # Enter may come before the list is seen: a typo's guess is listed, never picked blind.
        found = catalog.search_goods(query, limit=1, typos=False) if query else []
        action, unmatched = (f"add:{found[0]['good_name']}", None) if found else ("unmatched", query)
    form = _order_form(catalog, formdata=with_line_action(request.form, action))
    focus = _focus_after(action, form, catalog)
    if not (htmx and (action in ("add", "unmatched") or action.startswith(("add:", "remove:")))):
        return _order_page(form, catalog, focus=focus, unmatched=unmatched)
    response = make_response(render_template("orders/line_change.html", form=form, catalog=catalog,
                                             focus=focus, unmatched=unmatched))
    response.headers.update({"HX-Retarget": "#product-lines-region", "HX-Reswap": "outerHTML"})
    response.vary.add("HX-Request")
    return response


def _focus_after(action: str, form: OrderForm, catalog) -> str | None:
    """Where the keyboard should be after a line action: ready for the next product."""
    if action == "add":  # "Add product line": the new, empty line
        return form.products[-1].good_name.id
    if action.startswith(("add:", "remove:")) or action == "unmatched":
        return "product-search" if catalog.goods else "add-line"
    if action.startswith("manager:"):
        return "order_sales_manager"
    return None


def _fill_from_paste() -> Response:
    """Fill empty customer fields from pasted text; what was filled is highlighted to be checked."""
    found = read_customer(request.form.get("paste_text", ""), current_app.config["DEFAULT_PHONE_REGION"])
    formdata = request.form.copy()
    filled = [name for name, value in found.items() if not formdata.get(name, "").strip()]
    for name in filled:
        formdata[name] = found[name]
    kept = len(found) - len(filled)
    catalog = _catalog()
    form = _order_form(catalog, formdata=formdata)
    if filled:
        message = ngettext("Filled %(num)s field from the pasted text. It is highlighted: check it before "
                           "sending.",
                           "Filled %(num)s fields from the pasted text. They are highlighted: check them "
                           "before sending.", len(filled))
    else:
        message = _("Nothing in the pasted text could be used for an empty field.")
    if kept:
        message += " " + ngettext("%(num)s field you had typed was left as it was.",
                                  "%(num)s fields you had typed were left as they were.", kept)
    return _order_page(form, catalog, filled=filled, paste_message=message,
                       focus=filled[0] if filled else "paste_text")


def _show_attempt(entry: dict, catalog) -> Response:
    if entry.get("unsaved"):  # not in the history, so there is no page to redirect to
        return _render("attempts/attempt.html", "attempts/result.html", entry=entry, catalog=catalog)
    if htmx:
        # The summary's swap comes in the same render: one template context, not two.
        response = make_response(render_template("attempts/result.html", entry=entry, catalog=catalog,
                                                 with_summary=True))
        response.headers["HX-Trigger"] = "history-changed"
        response.headers["HX-Push-Url"] = url_for("history.attempt", entry_id=entry["id"])
        return response
    return redirect(url_for("history.attempt", entry_id=entry["id"]), 303)


def _already_sent(entry: dict | None, form: OrderForm, catalog) -> Response:
    if entry is not None and entry["outcome"] in MADE:
        return _show_attempt(entry, catalog)
    form.submission_token.data = None
    if entry is not None:
        return _order_page(form, catalog, 409, attempt=entry)
    return _order_page(form, catalog, 409, notice=_(
        "This form was already sent, or it is no longer valid, so nothing was sent now. "
        "Check the history before sending the order again."))


# --- live regions -----------------------------------------------------------------------------


@bp.post("/summary")
def summary():
    catalog = _catalog()
    form = _order_form(catalog)
    return render_template("orders/summary.html", **summarize(form, catalog))


@bp.post("/phone-reading/<name>")
def phone_reading(name):
    """The number a phone field will send, as the operator types it (htmx)."""
    if name not in PHONE_FIELDS:
        abort(404)
    text = say(phones.reading(request.form.get(name), current_app.config["DEFAULT_PHONE_REGION"]))
    return render_template("orders/phone_reading.html", field_id=name, reading=text)


@bp.get("/products/search")
def product_search():
    catalog = _catalog()
    query = request.args.get("q", "").strip()
    found = catalog.search_goods(query) if query else []
    return render_template("orders/product_results.html", found=found, query=query, catalog=catalog)
