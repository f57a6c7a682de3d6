"""A spreadsheet of orders: read a pasted or uploaded table, match its columns to order fields, and
turn each row into the order form's data, so that each row is judged by the form's own rules.

No Flask here beyond the form: views hand over text or bytes and get rows and messages back.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import pycountry
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from webapp.bulk import xlsx_limits
from webapp.bulk.columns import FIELDS, FULL_NAME, NAME_ORDER, match_header
from webapp.config import LANGUAGES
from webapp.i18n.countries import country_choices
from webapp.orders.form import STATUS_CHOICES

MAX_ROWS = 500
MAX_COLUMNS = 60
#: Rows of the sheet read at most, empty ones included.
MAX_SHEET_ROWS = 10 * MAX_ROWS
#: The longest cell: the longest order field (the note).
MAX_CELL = 2000
#: All the text of a table: as much as a pasted table may hold (an xlsx unpacks into far more).
MAX_TABLE_CHARS = 512 * 1024
#: How an xlsx date is written into a cell: the first format the order form reads.
CELL_DATETIME = "%Y-%m-%d %H:%M"
#: What an xlsx may hold before it is parsed (see xlsx_limits): Excel's last column is XFD (16,384);
#: a sheet as large as 5,000 rows of 60 columns, or one row across every column, and no more.
XLSX_LIMITS = xlsx_limits.SheetLimits(rows=MAX_SHEET_ROWS, columns=16_384, cells=MAX_SHEET_ROWS * MAX_COLUMNS,
                                      area=MAX_SHEET_ROWS * MAX_COLUMNS)
ENCODINGS = ("utf-8-sig", "cp1251")  # as Excel saves CSV: UTF-8 (with or without a BOM), or Windows-1251


class TableError(ValueError):
    """The table cannot be brought in; the message says why, in the operator's words."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line or row number in the source, cells as text)
    skipped: tuple[int, ...] = ()  # empty rows between orders, by their number


# --- reading -----------------------------------------------------------------------------------


def read_paste(text: str) -> Table:
    """Cells copied from a spreadsheet: tab-separated, a cell with line breaks in double quotes."""
    if "\t" not in text:  # one column, or a CSV pasted as text
        return _read_csv_text(text)
    return _table(_csv_rows(text, "\t"))


def read_upload(filename: str, data: bytes) -> Table:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt", ".tsv")):
        return _read_csv_text(_decode(data))
    raise TableError(_("Upload a .csv or .xlsx file (from Excel, Google Sheets or LibreOffice)."))


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(_("The file is neither UTF-8 nor Windows-1251 text: save it as CSV (UTF-8) and try "
                       "again."))


def _read_csv_text(text: str) -> Table:
    sample = text[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:  # one column, or too little to tell: the header line decides
        first = sample.splitlines()[0] if sample.strip() else ""
        delimiter = max(",;\t", key=first.count)
    return _table(_csv_rows(text, delimiter))


def _csv_rows(text: str, delimiter: str):
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        start = 1
        for row in reader:  # numbered by the line it starts on, as the sheet numbers it
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TableError(_("The table could not be read at line %(line)d: %(reason)s.",
                           line=reader.line_num, reason=str(exc))) from None


def _read_xlsx(data: bytes) -> Table:
    """The first sheet, read by calamine (Rust) once every part of the file has been checked: it holds
    the whole sheet in memory, as large as from A1 to its last cell, which the checks bound."""
    from python_calamine import CalamineWorkbook

    too_many_rows = _("The table has more than %(max)d rows. Send it in parts of at most %(max)d rows.",
                      max=MAX_ROWS)
    try:
        xlsx_limits.check(data, XLSX_LIMITS, too_many_rows=too_many_rows, too_much_text=_too_much_text())
    except xlsx_limits.XlsxRefused as refused:
        raise TableError(str(refused)) from None
    # Whatever a damaged file raises while it is opened or read (bad XML, a missing part, a cell that
    # is not what its type says) means one thing to the operator.
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as book:
            sheet = book.get_sheet_by_index(0)
            first = (sheet.start or (0, 0))[0] + 1  # rows before the first cell are left out
            return _table((number, [_xlsx_cell(v) for v in _trimmed(row[:MAX_COLUMNS])])
                          for number, row in enumerate(sheet.iter_rows(), first))
    except TableError:
        raise
    except Exception:
        raise TableError(_("This .xlsx file could not be opened: save it again from the spreadsheet.")
                         ) from None


def _too_much_text() -> str:
    return _("The table holds more text than %(max)d orders could use: bring in only the columns of the "
             "order.", max=MAX_ROWS)


def _trimmed(row: list) -> list:
    """A row without the empty cells the sheet is padded with up to its widest row."""
    end = len(row)
    while end and row[end - 1] in (None, ""):
        end -= 1
    return row[:end]


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(CELL_DATETIME)
    if isinstance(value, date):
        return datetime.combine(value, time()).strftime(CELL_DATETIME)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps 1500 as 1500.0
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def _table(numbered_rows) -> Table:
    """The first non-empty row names the columns; empty rows are skipped (those between orders are
    named, for the operator's note: a gap in a table may be a row lost in copying); at most MAX_ROWS rows."""
    headers, rows, size, skipped, gap = None, [], 0, [], []
    for number, cells in numbered_rows:
        if number > MAX_SHEET_ROWS:  # empty rows cost time too: a sheet ends where a table could
            raise TableError(_("The table has more than %(max)d rows. Send it in parts of at most "
                               "%(max)d rows.", max=MAX_ROWS))
        cells = [cell.strip() for cell in cells[:MAX_COLUMNS]]
        if not any(cells):
            if rows:
                gap.append(number)
            continue
        if max(map(len, cells)) > MAX_CELL:
            raise TableError(_("A cell of row %(row)d is longer than %(max)d characters, more than any "
                               "order field takes.", row=number, max=MAX_CELL))
        size += sum(map(len, cells))
        if size > MAX_TABLE_CHARS:
            raise TableError(_too_much_text())
        if headers is None:
            headers = cells
            continue
        if len(rows) == MAX_ROWS:
            raise TableError(_("The table has more than %(max)d rows. Send it in parts of at most "
                               "%(max)d rows.", max=MAX_ROWS))
        rows.append((number, cells + [""] * (len(headers) - len(cells))))
        skipped += gap
        gap = []
    if headers is None:
        raise TableError(_("The table is empty. Paste the cells with their header row, or choose a file."))
    if not rows:
        raise TableError(_("The table has a header row but no orders under it."))
    width = max(len(headers), *(len(cells) for _, cells in rows))
    headers += [""] * (width - len(headers))
    padded = [(number, cells + [""] * (width - len(cells))) for number, cells in rows]
    return Table(headers, padded, tuple(skipped))


def guess_mapping(headers: list[str]) -> list[str]:
    """The order field each column fills ("" = ignored); a field is taken by its first column only."""
    taken, mapping = set(), []
    for header in headers:
        field = match_header(header)
        mapping.append(field if field and field not in taken else "")
        taken.add(field)
    return mapping


# --- a row as the order form's data --------------------------------------------------------------

#: Status words a sheet may hold -> the form's value.
STATUS_WORDS = {**{c.value.casefold(): c.value for c in STATUS_CHOICES if c.value},
                **{str(c.label).casefold(): c.value for c in STATUS_CHOICES if c.value},
                "оплачен": "Paid", "оплачено": "Paid", "ожидает оплаты": "Expected", "ожидает": "Expected",
                "отменен": "Cancel", "отменён": "Cancel", "возврат": "MoneyBack"}
CONFIRMED_WORDS = {"yes": "Yes", "no": "No", "да": "Yes", "нет": "No", "y": "Yes", "n": "No"}
PRICE_SEPARATOR = re.compile(r"[;|]")


@dataclass
class RowData:
    formdata: MultiDict
    products: list[str]  # as resolved: slugs the form checks (an unknown one stays as typed)


def row_formdata(cells: dict[str, str], catalog, accepted: dict[str, str] | None = None) -> RowData:
    """The form data of one row: cells keyed by order field, turned into what the form's fields take
    (product titles to slugs, coupon codes to ids, country names to codes). What cannot be resolved
    is passed as typed, so that the form says what is wrong with it."""
    data = MultiDict()
    for field, value in cells.items():
        if field in ("product_names", "product_prices", FULL_NAME) or not value:
            continue
        data[field] = _resolved(field, value, catalog)
    for field, value in full_name_parts(cells.get(FULL_NAME, "")).items():
        if not cells.get(field):  # a column of its own says it better
            data[field] = value
    names = split_products(cells.get("product_names", ""), catalog, accepted)
    prices = split_prices(cells.get("product_prices", ""), len(names))
    for i in range(max(len(names), len(prices), 1)):
        data[f"products-{i}-good_name"] = names[i] if i < len(names) else ""
        data[f"products-{i}-price"] = prices[i] if i < len(prices) else ""
    return RowData(data, names)


def full_name_parts(text: str) -> dict[str, str]:
    """A full name in Russian order: last, first, then the rest as the middle name ("Рашид оглы").
    One word is taken for the first name; two are read as last and first (the page shows how)."""
    words = text.split()
    if len(words) < 2:
        return {"customer_first_name": words[0]} if words else {}
    parts = (*words[:2], " ".join(words[2:]))
    return {field: part for field, part in zip(NAME_ORDER, parts, strict=True) if part}


#: The first cell of a row that sums the others up, as spreadsheets end a list.
TOTALS_WORDS = frozenset({"итого", "всего", "итог", "сумма итого", "total", "totals", "grand total", "sum"})


def is_totals_row(cells: list[str]) -> bool:
    """A row that adds up the rows above it rather than being an order: its first filled cell says so
    and no cell holds an email address."""
    filled = [cell for cell in cells if cell.strip()]
    return bool(filled) and filled[0].strip().rstrip(":").casefold() in TOTALS_WORDS \
        and not any("@" in cell for cell in filled)


def _resolved(field: str, value: str, catalog) -> str:
    if field == "coupon" and catalog.coupons is not None and not value.isdigit():
        return next((str(c["id"]) for c in catalog.coupons
                     if c["coupon"].casefold() == value.casefold()), value)
    if field == "order_sales_manager" and catalog.managers is not None and not value.isdigit():
        return next((str(m["id"]) for m in catalog.managers
                     if m["manager_name"].casefold() == value.casefold()), value)
    if field.endswith("_country_code"):
        return _country(value)
    if field == "order_status":
        return STATUS_WORDS.get(value.casefold(), value)
    if field == "order_confirmed":
        return CONFIRMED_WORDS.get(value.casefold(), value)
    return value


#: Everyday country names that differ from the ISO names pycountry knows in English and Russian.
COUNTRY_WORDS = {"russia": "RU", "россия": "RU", "рф": "RU", "белоруссия": "BY", "кыргызстан": "KG",
                 "киргизия": "KG", "сша": "US", "uk": "GB", "великобритания": "GB", "англия": "GB"}


def _country(value: str) -> str:
    """An ISO code from a code or a name in either language ("RU", "Russian Federation", "Германия")."""
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        pass
    folded = value.casefold()
    for language in LANGUAGES:
        found = next((c.value for c in country_choices(language) if c.label.casefold() == folded), None)
        if found:
            return found
    return COUNTRY_WORDS.get(folded, value)


def split_products(text: str, catalog, accepted: dict[str, str] | None = None) -> list[str]:
    """Comma-separated products, each named by slug, title or numeric id, or by a value the operator
    accepted a proposal for (`accepted`: value_key(value) -> slug). A title may hold commas itself
    ("Copywriting Club, monthly access"), so the longest run of parts naming a product wins."""
    parts = [part.strip() for part in text.split(",")]
    known = {**_product_names(catalog), **(accepted or {})}
    found, i = [], 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            name = known.get(value_key(", ".join(parts[i:j])))
            if name:
                found.append(name)
                i = j
                break
        else:
            if parts[i]:
                found.append(parts[i])  # unknown: the form says so
            i += 1
    return found


def _product_names(catalog) -> dict[str, str]:
    names = {}
    for good in catalog.goods or ():
        for key in (good.get("id"), good["good_title"], good["good_name"]):
            if key not in (None, ""):
                names[value_key(str(key))] = good["good_name"]
    return names


#: A date without a time, in the forms the order form reads with a time after it: 05.12.2026, 2026-12-05.
DATE_ONLY = re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{1,2}-\d{1,2}")
DATE_FIELDS = ("order_created_at", "order_paid_at")


def date_only_columns(table: dict) -> list[int]:
    """Date columns whose every value is a date without a time, not yet answered for (table["dates"]):
    one question for the column instead of the same error in every row."""
    answered = table.get("dates") or {}
    found = []
    for column, field in enumerate(table["mapping"]):
        if field in DATE_FIELDS and str(column) not in answered:
            values = [row["cells"][column].strip() for row in table["rows"] if row["cells"][column].strip()]
            if values and all(DATE_ONLY.fullmatch(value) for value in values):
                found.append(column)
    return found


def cells_as_checked(table: dict, row: dict) -> list[str]:
    """A row's cells as the desk reads them: in a date column the operator said to take at 00:00, a
    date without a time gets that time (in the account's zone, as every typed time)."""
    midnight = {column for column, choice in (table.get("dates") or {}).items() if choice == "midnight"}
    return [f"{cell.strip()} 00:00" if str(j) in midnight and DATE_ONLY.fullmatch(cell.strip()) else cell
            for j, cell in enumerate(row["cells"])]


def value_key(value: str) -> str:
    """A cell's value as compared: case and runs of spaces do not matter."""
    return " ".join(value.split()).casefold()


def split_prices(text: str, products: int) -> list[str]:
    """Prices in the order of the products; an empty place keeps the catalogue price. With one product
    the cell is one price ("1 500,50"); with several they are separated by ";" (or "|"), or by commas."""
    text = text.strip()
    if not text:
        return []
    if PRICE_SEPARATOR.search(text):
        return [p.strip() for p in PRICE_SEPARATOR.split(text)]
    parts = [p.strip() for p in text.split(",")]
    # "1500,990" is two prices; "1 500,00 ₽" is one with a decimal comma, never 1500 and 0.
    if products > 1 and all(re.fullmatch(r"[1-9]\d*|0|", part) for part in parts):
        return parts
    return [text]


#: What the operator reads for a column nobody maps.
IGNORED = _l("— ignored —")


def field_choices() -> list[tuple[str, str]]:
    return [("", str(IGNORED))] + [(name, str(label)) for name, label in FIELDS.items()]
