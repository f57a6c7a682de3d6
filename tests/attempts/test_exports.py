"""Exports a spreadsheet opens safely: xlsx cells are text, CSV cells never start a formula."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.bulk.test_views import bring, run, tsv
from tests.support.desk import desk_config, sign_in
from webapp import create_app
from webapp.attempts.exports import csv_cell, xlsx_bytes

#: Each starts a formula (or a DDE call) in Excel, LibreOffice or Google Sheets.
TRIGGERS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "|calc", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(1)",
            "\n=1+1", "\t=1+1", "\r=1+1", " =1+1", "\u3000=1+1"]


@pytest.mark.parametrize("text", TRIGGERS)
def test_the_csv_guard_covers_every_formula_trigger(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["ivan@example.com", "1500.50", "Иван", "a=b", ""])
def test_plain_text_is_left_as_it_is(text):
    assert csv_cell(text) == text


def sheet_rows(data: bytes):
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows())
    assert all(cell.data_type == "s" for row in rows for cell in row if cell.value is not None)
    return [[cell.value for cell in row] for row in rows]


def test_an_xlsx_cell_holds_what_was_said_as_text_without_what_xml_cannot_hold():
    cells = ["bell\x07 and nul\x00 kept out", "=1+1", "#N/A", "0012", "line\nbreak", "", "+79123456789"]
    header, row = sheet_rows(xlsx_bytes([f"c{n}" for n in range(len(cells))], [cells], "t"))
    assert row == ["bell and nul kept out", "=1+1", "#N/A", "0012", "line\nbreak", None, "+79123456789"]


def test_an_xlsx_cell_longer_than_excel_holds_is_cut_to_its_limit_not_dropped():
    _, row = sheet_rows(xlsx_bytes(["reply"], [["=" + "я" * 40_000]], "t"))  # a reply of any length
    assert row == ["=" + "я" * 32_766]  # Excel's 32,767 characters, still text


ORDER = {"customer_email": "ivan@example.com", "customer_phone": "+79123456789",
         "customer_first_name": "\uff1dcmd", "note": "=HYPERLINK(\"http://evil.example\")",
         "products-0-good_name": "digital"}


def test_the_history_as_xlsx_keeps_phones_and_never_holds_a_formula(client):
    assert client.post("/", data=ORDER).status_code == 303
    answer = client.get("/history.xlsx")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="order-history-' in answer.headers["Content-Disposition"]
    header, row = sheet_rows(answer.get_data())
    cells = dict(zip(header, row, strict=True))
    assert cells["customer_phone"] == "+79123456789" and cells["outcome"] == "Created"
    assert cells["note"] == ORDER["note"] and cells["customer_first_name"] == "\uff1dcmd"
    page = client.get("/history").get_data(as_text=True)
    assert 'href="/history.xlsx"' in page and 'href="/history.csv"' in page
    exported = client.get("/history.csv").get_data(as_text=True)
    [cells] = csv.DictReader(io.StringIO(exported.removeprefix("\ufeff")))
    assert cells["note"] == "'" + ORDER["note"] and cells["customer_first_name"] == "'\uff1dcmd"


def test_the_many_orders_result_as_xlsx_keeps_phones_and_never_holds_a_formula(shop, tmp_path):
    desk = sign_in(create_app(desk_config(shop.url, tmp_path)).test_client())
    table_id = bring(desk, tsv(["Email", "Product", "Phone", "|calc"],
                               ["ok@example.com", "digital", "+79123456789", "\uff20SUM(1)"]))
    final = run(desk, table_id)
    assert f"/bulk/{table_id}/result.xlsx" in final
    answer = desk.get(f"/bulk/{table_id}/result.xlsx")
    assert answer.status_code == 200
    header, row = sheet_rows(answer.get_data())
    assert header[:4] == ["row", "outcome", "code", "text"] and header[-1] == "|calc"
    assert row[1] == "Created" and row[-2:] == ["+79123456789", "\uff20SUM(1)"]
    exported = desk.get(f"/bulk/{table_id}/result.csv").get_data(as_text=True)
    header, row = csv.reader(io.StringIO(exported.removeprefix("\ufeff")))
    assert header[-1] == "'|calc" and row[-2:] == ["'+79123456789", "'\uff20SUM(1)"]
