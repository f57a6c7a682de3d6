"""Every name the templates use beyond Flask's own, registered in one place.

Each package owns what it computes (money in i18n, outcomes in attempts, labels in orders); here
they are only named for the templates, once, as globals rather than per-render context processors,
so a template works whichever blueprints a test or a script happens to import."""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

from flask import Flask, url_for
from markupsafe import Markup, escape
from wtforms import SelectChoice

from webapp.attempts import history, invoice_lookup, listing, team_orders
from webapp.attempts.outcomes import LOOKABLE
from webapp.auth.signin_token import form_token
from webapp.bulk.run import outcome_label
from webapp.bulk.table import full_name_parts
from webapp.i18n import formats
from webapp.i18n.saying import NAMES, page_language, page_translations, plural_forms, say
from webapp.justclick.client import ACCOUNT_CODES, ORDER_CODES
from webapp.orders.form import STATUS_DOUBTS, api_labels, error_list
from webapp.orders.order import summarize


def init_app(app: Flask) -> None:
    env = app.jinja_env
    env.filters.update(money=formats.money, localtime=formats.localtime)
    env.install_gettext_callables(  # Flask-Babel's own, with the catalogue kept per request
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
        newstyle=True)
    env.globals.update(
        # the desk and the page
        sandbox_mode=app.config["SANDBOX"], page_language=page_language, language_names=NAMES,
        signin_token=form_token, option_tags=option_tags, attributes=attributes,
        say=say, desk_text=history.desk_text, plural_forms=plural_forms,
        # the order form
        form_errors=error_list, field_labels=api_labels, order_summary=summarize,
        status_doubts=STATUS_DOUBTS,
        # attempts and their invoices
        outcomes=history.OUTCOMES, recent_attempts=history.recent, pay_status_label=history.pay_status_label,
        list_words=history.list_words, list_paths=list_paths,
        kept_invoice=invoice_lookup.kept_invoice, lookable=LOOKABLE,
        customer_name=listing.customer_name, product_titles=listing.product_titles, amount_of=listing.amount,
        order_state=team_orders.state_of, waited_for=team_orders.waited,
        order_codes=ORDER_CODES, account_codes=ACCOUNT_CODES,
        lookup_tries=invoice_lookup.TRIES, lookup_retry_seconds=invoice_lookup.RETRY_SECONDS,
        # many orders
        outcome_label=outcome_label, full_name_parts=full_name_parts,
    )
    if app.config["SANDBOX"]:
        from webapp.sandbox.standin import MAGIC_EMAILS

        env.globals["magic_emails"] = MAGIC_EMAILS


@lru_cache(maxsize=32)
def _option_tags(pairs: tuple) -> str:
    return "".join(f'<option value="{escape(value)}">{escape(label)}</option>' for value, label in pairs)


def option_tags(choices, selected) -> Markup:
    """<option> tags for a select, built once per list: the two country lists alone are 500 options,
    and rendering them option by option was half of the order page's time."""
    # Labels as text in the operator's language: a lazily translated label is not a stable cache key.
    pairs = tuple((c.value, str(c.label)) if isinstance(c, SelectChoice) else (str(c[0]), str(c[1]))
                  for c in choices)
    html = _option_tags(pairs)
    if selected not in (None, ""):
        chosen = f'<option value="{escape(selected)}">'
        html = html.replace(chosen, chosen[:-1] + " selected>", 1)
    return Markup(html)


def attributes(*given: dict) -> dict:
    """A field's attributes: the mappings merged in order (a later value wins, in the earlier place),
    those without a value (None) left out. One call where the macro looped over each attribute."""
    merged = {name: value for mapping in given for name, value in mapping.items()}
    return {name: value for name, value in merged.items() if value is not None}


def list_paths() -> SimpleNamespace:
    """The addresses each row of a list of attempts links to, built once per list: each row puts its
    attempt's id in place of ENTRYID (url_for was a tenth of the Orders page's time)."""
    return SimpleNamespace(attempt=url_for("history.attempt", entry_id="ENTRYID"),
                           duplicate=url_for("orders.new_order", **{"from": "ENTRYID"}),
                           reminder=url_for("team.reminder", entry_id="ENTRYID"))
