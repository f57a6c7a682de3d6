"""Hostile .xlsx files of at most 512 KB, as an attacker would upload them to "Many orders".

Each is a valid workbook (one header row, one order) with one part swapped for a bomb that deflate
shrinks about a thousandfold: millions of styles, millions of shared strings, or one row of millions
of cells. Shared by the tests (which check the refusal) and bench/xlsx_limits.py (which prints what
reading them costs).
"""

from __future__ import annotations

import io
import zipfile
from functools import cache

from openpyxl import Workbook

LIMIT = 512 * 1024  # the desk's request limit: a hostile file must fit in it to matter
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHARED_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
               b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
SHARED_REL = (b'<Relationship Id="rIdShared" Target="sharedStrings.xml" Type="http://schemas.'
              b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>')


def _base() -> dict[str, bytes]:
    book = Workbook()
    sheet = book.active
    sheet.append(["Email", "Product"])
    sheet.append(["ivan@example.com", "digital"])
    saved = io.BytesIO()
    book.save(saved)
    with zipfile.ZipFile(saved) as source:
        return {name: source.read(name) for name in source.namelist()}


def _build(parts: dict[str, bytes], name: str, head: bytes, unit: bytes, tail: bytes,
           budget: int = LIMIT - 16 * 1024) -> bytes:
    """The workbook with part `name` = head + unit × n + tail, n as large as `budget` bytes allow."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for other, data in parts.items():
            if other != name:
                target.writestr(other, data)
        with target.open(name, "w", force_zip64=True) as part:
            part.write(head)
            block = unit * (1 << 16)
            while out.tell() < budget:  # what deflate has flushed so far
                part.write(block)
            part.write(tail)
    data = out.getvalue()
    assert len(data) <= LIMIT, len(data)
    return data


@cache
def styles_bomb() -> bytes:
    """styles.xml with millions of cell formats (<xf/>), each of which openpyxl keeps as an object."""
    parts = _base()
    styles = parts["xl/styles.xml"]
    start = styles.index(b"<cellXfs")
    end = styles.index(b"</cellXfs>") + len(b"</cellXfs>")
    return _build(parts, "xl/styles.xml", styles[:start] + b'<cellXfs count="1">',
                  b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
                  b"</cellXfs>" + styles[end:])


@cache
def shared_strings_bomb() -> bytes:
    """sharedStrings.xml with millions of strings; the order's email cell points at the first."""
    parts = _base()
    types = "[Content_Types].xml"
    parts[types] = parts[types].replace(b"</Types>", SHARED_TYPE + b"</Types>")
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b"</Relationships>", SHARED_REL + b"</Relationships>")
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b'<c r="A2" t="inlineStr"><is><t>ivan@example.com</t></is></c>',
                                        b'<c r="A2" t="s"><v>0</v></c>')
    parts["xl/sharedStrings.xml"] = b""
    return _build(parts, "xl/sharedStrings.xml", b"<sst " + MAIN + b"><si><t>ivan@example.com</t></si>",
                  b"<si><t>x</t></si>", b"</sst>")


@cache
def wide_row_bomb() -> bytes:
    """A first row of millions of cells (no cell reference needed: each follows the one before)."""
    parts = _base()
    sheet = parts["xl/worksheets/sheet1.xml"]
    start = sheet.index(b"<sheetData>") + len(b"<sheetData>")
    end = sheet.index(b"</sheetData>")
    return _build(parts, "xl/worksheets/sheet1.xml",
                  sheet[:start] + b'<row r="1"><c t="inlineStr"><is><t>Email</t></is></c>',
                  b'<c t="n"><v>1</v></c>', b"</row>" + sheet[end:])


#: Each shape and the words its refusal says.
REFUSALS = {"styles bomb": "more cell formats than any table of orders needs",
            "shared-strings bomb": "more text than 500 orders could use",
            "one row of millions of cells": "could not be opened"}  # past XFD: no spreadsheet writes it
SHAPES = {"styles bomb": styles_bomb, "shared-strings bomb": shared_strings_bomb,
          "one row of millions of cells": wide_row_bomb}
