"""Each row of a table judged as the order form judges one order: the same form is built from the
row's cells, and its messages are placed in the row's cells. Also the two duplicate checks: against
the team-wide order index (as the guard would ask), and against the table's other rows."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.attempts.order_index import identity
from webapp.attempts.sending import earlier_attempt
from webapp.bulk.columns import FULL_NAME, NAME_ORDER
from webapp.bulk.table import cells_as_checked, row_formdata
from webapp.justclick.product_search import proposal
from webapp.orders.form import STATUS_DOUBTS, OrderForm, error_list
from webapp.orders.order import summarize


@dataclass
class CheckedRow:
    index: int  # the row's place in the table, from 0
    errors: dict[int, list[str]] = field(default_factory=dict)  # column -> messages
    row_errors: list[str] = field(default_factory=list)  # about fields no column fills
    params: dict | None = None  # createorder parameters, when the row is valid
    extra: dict = field(default_factory=dict)  # what the history keeps beside them
    products: list[dict] = field(default_factory=list)  # resolved lines: title, name, price
    proposals: dict[str, dict] = field(default_factory=dict)  # a product value -> the one good it may mean
    total: Decimal | None = None
    earlier: dict | None = None  # a recent attempt of the same order (the guard would ask)
    same_as: int | None = None  # an earlier row of this table with the same order

    @property
    def valid(self) -> bool:
        return not self.errors and not self.row_errors

    def all_errors(self) -> list[str]:
        return [m for messages in self.errors.values() for m in messages] + self.row_errors


def order_form(formdata, catalog) -> OrderForm:
    """The order form over the given data, as the order page builds it (no CSRF: nothing is posted)."""
    config = current_app.config
    return OrderForm(formdata=formdata, meta={"csrf": False}, catalog=catalog,
                     default_region=config["DEFAULT_PHONE_REGION"], timezone=config["ACCOUNT_TIMEZONE"])


def check_row(index: int, cells: list[str], mapping: list[str], catalog,
              accepted: dict[str, str] | None = None) -> CheckedRow:
    """`accepted`: product values the operator accepted a proposal for (table["accepted"])."""
    by_field = {name: cells[i] for i, name in enumerate(mapping) if name and i < len(cells)}
    column_of = {name: i for i, name in enumerate(mapping) if name}
    data = row_formdata(by_field, catalog, accepted)
    form = order_form(data.formdata, catalog)
    checked = CheckedRow(index)
    for name in data.products:  # a product the shop has under no such name: what it may have meant
        close = None if name in catalog.goods_by_name else proposal(catalog.goods, name)
        if close:
            checked.proposals[name] = {"good_name": close["good_name"], "good_title": close["good_title"]}
    valid = form.validate()
    for bound, message in error_list(form):
        name = bound.name
        if name.startswith("products"):
            name = "product_prices" if name.endswith("-price") else "product_names"
        if name not in column_of and name in NAME_ORDER:  # read from the full name's cell
            name = FULL_NAME
        _place(checked, column_of.get(name), message)
    doubt = form.status_doubt()
    if valid and doubt:  # the form asks; a table cannot, so the row waits for a fix
        _place(checked, column_of.get("order_status"), STATUS_DOUBTS[doubt])
    summary = summarize(form, catalog)
    checked.products = summary["rows"]
    checked.total = summary["total"]
    if checked.valid:
        checked.params, checked.extra = form.order()
    return checked


def _place(checked: CheckedRow, column: int | None, message: str) -> None:
    if column is None:
        checked.row_errors.append(message)
    else:
        checked.errors.setdefault(column, []).append(message)


def check_table(table: dict, catalog) -> list[CheckedRow]:
    """Every row checked; a row that repeats an earlier included row's order is refused (the guard
    would hold it anyway), and a row like a recent attempt is marked (the send asks again)."""
    mapping = table["mapping"]
    email_column = mapping.index("customer_email") if "customer_email" in mapping else None
    secret = str(current_app.config["SECRET_KEY"])
    first_of: dict[str, int] = {}
    checked = []
    for i, row in enumerate(table["rows"]):
        result = _remembered_check(table, i, catalog)
        if result.params is not None:
            key = identity(result.params, secret)
            if row.get("excluded") or row.get("entry"):
                pass  # neither repeats nor is repeated: it is not to be sent now
            elif key in first_of:
                result.same_as = first_of[key]
                _place(result, email_column, _(
                    "Same customer and products as row %(row)d: the table would make the invoice twice. "
                    "Fix or exclude one of them.", row=first_of[key] + 1))
                result.params = None
            else:
                first_of[key] = i
                result.earlier = earlier_attempt(result.params, row["token"])
        checked.append(result)
    return checked


#: What a row keeps of its check (the duplicate checks are made afresh each time).
KEPT_FIELDS = ("errors", "row_errors", "params", "extra", "products", "proposals", "total")


def check_table_row(table: dict, index: int, catalog) -> CheckedRow:
    """One row of the table checked with what the operator answered for the whole table: the products
    they accepted, the date columns they said to read at 00:00."""
    cells = cells_as_checked(table, table["rows"][index])
    return check_row(index, cells, table["mapping"], catalog, table.get("accepted"))


def _remembered_check(table: dict, index: int, catalog) -> CheckedRow:
    """check_table_row, kept in the row while its cells, the mapping, the answers for the table, the
    lists and the language stay the same: the form takes milliseconds per row, so a fix re-checks one
    row."""
    row = table["rows"][index]
    key = repr((row["cells"], table["mapping"], sorted((table.get("accepted") or {}).items()),
                sorted((table.get("dates") or {}).items()), catalog.fetched_at, str(get_locale())))
    kept = row.get("check")
    if kept and kept["key"] == key:
        return CheckedRow(index, **copy.deepcopy(kept["result"]))
    result = check_table_row(table, index, catalog)
    kept = {name: getattr(result, name) for name in KEPT_FIELDS}
    row["check"] = {"key": key, "result": copy.deepcopy(kept)}
    return result


def total_of(checked: list[CheckedRow], rows: list[dict]) -> tuple[int, Decimal | None]:
    """How many rows will be sent, and their total (None when a price is unknown). A row like a recent
    order is not: the guard will hold it."""
    sending = [c for c in checked if c.valid and not c.earlier and not rows[c.index].get("excluded")
               and not rows[c.index].get("entry")]
    totals = [c.total for c in sending]
    return len(sending), (sum(totals) if all(t is not None for t in totals) else None)
