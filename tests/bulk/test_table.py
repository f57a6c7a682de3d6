"""Reading a table of orders: pasted cells, CSV in the encodings spreadsheets save, xlsx; header mapping."""

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from tests.support.hostile_xlsx import REFUSALS, SHAPES
from webapp.bulk.columns import FULL_NAME
from webapp.bulk.table import (
    MAX_ROWS,
    TableError,
    guess_mapping,
    read_paste,
    read_upload,
    row_formdata,
    split_prices,
    split_products,
)
from webapp.justclick.catalog import Catalog
from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS, SEED_MANAGERS

CATALOG = Catalog(goods=SEED_GOODS, coupons=SEED_COUPONS, managers=SEED_MANAGERS)


def test_cells_pasted_from_a_spreadsheet_are_tab_separated():
    # As Excel puts them on the clipboard: a cell with a line break or a quote is quoted
    pasted = ('Email\tFirst name\tProduct\tNote\r\n'
              'ivan@example.com\tИван\tdigital\t"two\r\nlines, and a ""quote"""\r\n'
              'anna@example.com\tАнна\tmentor-session\t\r\n')
    table = read_paste(pasted)
    assert table.headers == ["Email", "First name", "Product", "Note"]
    assert [cells for _, cells in table.rows] == [
        ["ivan@example.com", "Иван", "digital", 'two\r\nlines, and a "quote"'],
        ["anna@example.com", "Анна", "mentor-session", ""],
    ]


def test_a_csv_with_semicolons_in_windows_1251_as_russian_excel_saves_it():
    text = ('E-mail;Имя;Товар;Цена\r\n'
            'ivan@example.com;Иван;"Курс «Продажи в мессенджерах»";"14 900,50"\r\n')
    table = read_upload("заказы.csv", text.encode("cp1251"))
    assert table.headers == ["E-mail", "Имя", "Товар", "Цена"]
    assert table.rows == [(2, ["ivan@example.com", "Иван", "Курс «Продажи в мессенджерах»", "14 900,50"])]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_a_csv_with_commas_in_utf8_with_or_without_a_bom(encoding):
    text = 'customer_email,product_names,note\nivan@example.com,"digital, mentor-session","a, b\nc"\n'
    table = read_upload("orders.CSV", text.encode(encoding))
    assert table.headers == ["customer_email", "product_names", "note"]  # no BOM glued to the first header
    assert table.rows == [(2, ["ivan@example.com", "digital, mentor-session", "a, b\nc"])]


def test_an_xlsx_file_with_numbers_and_dates_as_excel_keeps_them():
    book = Workbook()
    sheet = book.active
    sheet.append(["Email", "Price", "Created at", "Phone"])
    sheet.append(["ivan@example.com", 1500, datetime(2026, 1, 5, 10, 30), "+7 912 345 67 89"])
    sheet.append([None, None, None, None])  # an empty row in the middle
    sheet.append(["anna@example.com", 990.5, None, 79123456789])
    data = io.BytesIO()
    book.save(data)
    table = read_upload("orders.xlsx", data.getvalue())
    assert table.rows == [
        (2, ["ivan@example.com", "1500", "2026-01-05 10:30", "+7 912 345 67 89"]),
        (4, ["anna@example.com", "990.5", "", "79123456789"]),
    ]


def test_empty_rows_are_skipped_and_short_rows_padded():
    table = read_paste("\t\t\nEmail\tProduct\tPrice\n\t\t\nivan@example.com\tdigital\n\n")
    assert table.headers == ["Email", "Product", "Price"]
    assert table.rows == [(4, ["ivan@example.com", "digital", ""])]


def test_500_rows_are_read_and_501_are_refused_with_a_clear_error():
    rows = "".join(f"user{i}@example.com\tdigital\n" for i in range(MAX_ROWS))
    assert len(read_paste("Email\tProduct\n" + rows).rows) == MAX_ROWS
    with pytest.raises(TableError, match="more than 500 rows"):
        read_paste("Email\tProduct\n" + rows + "one.more@example.com\tdigital\n")


@pytest.mark.parametrize("name, data, words", [
    ("orders.pdf", b"%PDF", "Upload a .csv or .xlsx"),
    ("orders.xlsx", b"not a zip", "could not be opened"),
    ("orders.csv", b"", "The table is empty"),
    ("orders.csv", "Email;Имя\n".encode("cp1251"), "no orders under it"),
])
def test_what_cannot_be_read_is_said(name, data, words):
    with pytest.raises(TableError, match=words):
        read_upload(name, data)


def test_headers_in_english_and_russian_map_to_order_fields():
    headers = ["E-mail", "Имя", "Фамилия", "Отчество", "Телефон", "Товар", "Цена", "Купон", "Статус",
               "Дата оплаты", "Город", "Адрес доставки", "Индекс", "Страна", "Примечание", "Менеджер",
               "Колонка для себя"]
    assert guess_mapping(headers) == [
        "customer_email", "customer_first_name", "customer_last_name", "customer_middle_name",
        "customer_phone", "product_names", "product_prices", "coupon", "order_status", "order_paid_at",
        "customer_shipping_city", "customer_shipping", "customer_shipping_zip",
        "customer_shipping_country_code", "note", "order_sales_manager", ""]
    english = ["Email address", "first_name", "Last Name", "PHONE", "Products", "Price override",
               "customer_email", "utm_source", "Order tag", "Payment method", "Created at", "Paid at"]
    assert guess_mapping(english) == [
        "customer_email", "customer_first_name", "customer_last_name", "customer_phone", "product_names",
        "product_prices", "", "utm_source", "order_tag", "payment_method", "order_created_at",
        "order_paid_at"]  # a second email column is ignored: the first one fills the field


@pytest.mark.parametrize("header", ["ФИО", "Ф.И.О.", "Full name", "фамилия имя отчество"])
def test_a_full_name_column_is_recognised(header):
    assert guess_mapping(["Email", header]) == ["customer_email", FULL_NAME]


@pytest.mark.parametrize("value, names", [
    ("Иванов Иван Сергеевич", {"customer_last_name": "Иванов", "customer_first_name": "Иван",
                               "customer_middle_name": "Сергеевич"}),
    ("  Петрова   Мария ", {"customer_last_name": "Петрова", "customer_first_name": "Мария"}),
    ("Мария", {"customer_first_name": "Мария"}),
    ("Алиев Ахмед Рашид оглы", {"customer_last_name": "Алиев", "customer_first_name": "Ахмед",
                               "customer_middle_name": "Рашид оглы"}),
])
def test_a_full_name_is_split_in_russian_order(value, names):
    data = row_formdata({"customer_email": "a@example.com", FULL_NAME: value}, CATALOG).formdata
    assert {k: v for k, v in data.items() if k.startswith("customer_") and k.endswith("name")} == names


def test_a_column_of_its_own_wins_over_the_full_name():
    data = row_formdata({FULL_NAME: "Иванов Иван", "customer_first_name": "Ваня"}, CATALOG).formdata
    assert (data["customer_first_name"], data["customer_last_name"]) == ("Ваня", "Иванов")


def test_products_by_slug_title_or_id_even_when_a_title_holds_a_comma():
    assert split_products("Copywriting Club, monthly access, digital, 75702", CATALOG) == [
        "copywriting-club", "digital", "email-marketing-101"]
    assert split_products("курс «продажи в мессенджерах»", CATALOG) == ["sales-in-messengers"]
    assert split_products("digital, no-such-thing", CATALOG) == ["digital", "no-such-thing"]


@pytest.mark.parametrize("text, products, prices", [
    ("1 500,50", 1, ["1 500,50"]),  # one product: the whole cell, decimal comma and all
    ("1 500,00 ₽", 2, ["1 500,00 ₽"]),  # a decimal comma is never a second price of 0
    ("1500,00", 2, ["1500,00"]),
    ("1500; ;990", 3, ["1500", "", "990"]),
    ("1500,990", 2, ["1500", "990"]),
    ("", 2, []),
])
def test_prices_follow_their_products(text, products, prices):
    assert split_prices(text, products) == prices


def test_a_row_becomes_the_order_forms_data():
    cells = {"customer_email": "ivan@example.com", "product_names": "Digital product, mentor-session",
             "product_prices": "100;", "coupon": "WELCOME10", "order_sales_manager": "Greg",
             "customer_shipping_country_code": "Russia", "customer_billing_country_code": "Германия",
             "order_status": "оплачен", "note": ""}
    data = row_formdata(cells, CATALOG).formdata
    assert data.to_dict() == {
        "customer_email": "ivan@example.com", "coupon": "586", "order_sales_manager": "71257",
        "customer_shipping_country_code": "RU", "customer_billing_country_code": "DE", "order_status": "Paid",
        "products-0-good_name": "digital", "products-0-price": "100",
        "products-1-good_name": "mentor-session", "products-1-price": ""}


def _xlsx(change=None, far_cell=None) -> bytes:
    """A one-order workbook; `change(part name, bytes)` rewrites (or, returning None, drops) its parts."""
    import zipfile

    book = Workbook()
    sheet = book.active
    sheet.append(["Email", "Product"])
    sheet.append(["ivan@example.com", "digital"])
    if far_cell:
        sheet.cell(row=far_cell[0], column=far_cell[1], value="x")
    saved = io.BytesIO()
    book.save(saved)
    if change is None:
        return saved.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = change(name, source.read(name))
            if data is not None:
                target.writestr(name, data)
    return out.getvalue()


def _in_sheet(old: bytes, new: bytes):
    return lambda name, data: data.replace(old, new) if name.endswith("sheet1.xml") else data


@pytest.mark.parametrize("change", [
    _in_sheet(b"</sheetData>", b"<row"),  # broken XML
    lambda name, data: None if name.endswith("sheet1.xml") else data,  # the sheet itself missing
], ids=["broken xml", "no sheet"])
def test_a_damaged_xlsx_is_refused_with_a_clear_error(change):
    with pytest.raises(TableError, match="could not be opened"):
        read_upload("orders.xlsx", _xlsx(change))


def test_a_date_cell_that_is_no_date_is_read_as_the_text_it_holds():
    """The row then gets the form's own message for that field, as a typed value would."""
    table = read_upload("orders.xlsx", _xlsx(_in_sheet(
        b"<c r=\"A2\" t=\"inlineStr\"><is><t>ivan@example.com</t></is></c>",
        b"<c r=\"A2\" t=\"d\"><v>not-a-date</v></c>")))
    assert table.rows == [(2, ["not-a-date", "digital"])]


def test_an_xlsx_with_a_cell_far_down_is_refused_not_read_row_by_empty_row():
    """A sheet is read as far as its rows go, not as far as it says it goes; a cell on row 1,000,000
    makes a table of a million rows, which is refused as such."""
    with pytest.raises(TableError, match="more than 500 rows"):
        read_upload("orders.xlsx", _xlsx(far_cell=(1_000_000, 1)))
    wide = read_upload("orders.xlsx", _xlsx(far_cell=(1, 16_384)))  # the last column there is
    assert wide.headers == ["Email", "Product"] and wide.rows == [(2, ["ivan@example.com", "digital"])]


def test_a_cell_longer_than_any_order_field_is_refused():
    long_note = "n" * 2001
    with pytest.raises(TableError, match="row 2 .* longer than 2000 characters"):
        read_paste(f"Email\tNote\nivan@example.com\t{long_note}\n")
    longest = read_paste(f"Email\tNote\nivan@example.com\t{long_note[:2000]}\n")
    assert longest.rows[0][1][1] == long_note[:2000]


def test_an_xlsx_that_unpacks_into_more_text_than_a_table_of_orders_holds_is_refused():
    """A shared string is stored once and shown everywhere: a small file can hold megabytes of cells."""
    book = Workbook()
    sheet = book.active
    sheet.append([f"Column {i}" for i in range(60)])
    for _ in range(20):
        sheet.append(["n" * 2000] * 60)  # 2.4 million characters from one string
    saved = io.BytesIO()
    book.save(saved)
    assert len(saved.getvalue()) < 100_000
    with pytest.raises(TableError, match="more text than"):
        read_upload("orders.xlsx", saved.getvalue())


@pytest.mark.parametrize("shape", SHAPES)
def test_a_hostile_xlsx_is_refused_before_it_is_parsed(shape):
    """512 KB that unpack into hundreds of megabytes of styles, shared strings or cells: each part is
    unpacked only as far as a table of orders could reach, and counted, before any reader sees it."""
    data = SHAPES[shape]()
    assert len(data) <= 512 * 1024
    with pytest.raises(TableError, match=REFUSALS[shape]):
        read_upload("orders.xlsx", data)


def test_a_part_whose_header_understates_its_size_is_refused():
    """zipfile stops at the declared size; another reader might unpack the whole stream."""
    import zipfile

    data = bytearray(_xlsx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    central = data.index(info.filename.encode(), data.index(b"PK\x01\x02")) - 46  # its directory entry
    for start in (info.header_offset + 22, central + 24):  # the uncompressed size, in both headers
        data[start:start + 4] = (info.file_size // 2).to_bytes(4, "little")
    with pytest.raises(TableError, match="could not be opened"):
        read_upload("orders.xlsx", bytes(data))


@pytest.mark.parametrize("cell, words", [
    ('<c r="A5001"><v>1</v></c>', "more than 500 rows"),
    ('<c r="XFE2"><v>1</v></c>', "could not be opened"),  # past Excel\'s last column
    ('<c r="BZ4000"><v>1</v></c>', "cells far to the right of the table"),  # 4,000 × 78 cells held at once
])
def test_a_sheet_larger_than_a_table_is_refused_by_its_cell_references(cell, words):
    with pytest.raises(TableError, match=words):
        read_upload("orders.xlsx", _xlsx(_in_sheet(b"</row></sheetData>",
                                                   cell.encode() + b"</row></sheetData>")))


def test_a_doctype_with_entities_is_refused():
    billion = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
    with pytest.raises(TableError, match="could not be opened"):
        read_upload("orders.xlsx", _xlsx(lambda name, data: billion + data if name.endswith("sheet1.xml")
                                         else data))
