"""An .xlsx from a stranger is checked part by part before any parser sees it.

An xlsx is a zip of XML parts, and deflate shrinks repetitive XML a thousandfold: 512 KB can hold
hundreds of megabytes of styles, shared strings or cells, which a reader loads whole before the desk's
own limits apply. So each part is unpacked here by its raw deflate stream (whatever its header
declares), at most `MAX_PART` bytes of it, and its elements are counted: the reader only ever gets a
file whose every part is small and whose sheet is no larger than a table of orders could be.

No Flask here beyond the messages: the caller gets `XlsxRefused` with the operator's words.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from flask_babel import gettext as _

#: Unpacked bytes of one part. The largest table the desk takes (5,000 sheet rows, 60 columns,
#: 512 K characters) is about 15 MB as sheet XML, most of it cell markup.
MAX_PART = 16 * 1024 * 1024
#: Unpacked bytes of all parts together (images and the like included).
MAX_TOTAL = 32 * 1024 * 1024
MAX_PARTS = 500
#: Start tags of a styles part: Excel itself stops at 64,000 cell formats.
MAX_STYLE_ELEMENTS = 250_000
STEP = 1024 * 1024  # bytes unpacked at a time

_ROOT = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)[\s/>]")
_SHARED_STRING = re.compile(rb"<(?:[\w.-]+:)?si[\s/>]")
# A row or a cell start tag with its attributes; "c:" alone is a chart's namespace, not a cell.
_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br\s*=\s*["\'](\d+)["\']')
_CELL_REF = re.compile(rb'\br\s*=\s*["\']([A-Za-z]{1,3})(\d+)["\']')


class XlsxRefused(ValueError):
    """The file is refused before it is parsed; the message says why, in the operator's words."""


@dataclass(frozen=True)
class SheetLimits:
    rows: int  # the last sheet row read (empty rows count)
    columns: int  # Excel's last column, XFD
    cells: int  # cells written in the sheet, empty ones with a format included
    area: int  # rows × columns from A1 to the last cell: a reader may hold that many


def check(data: bytes, limits: SheetLimits, *, too_many_rows: str, too_much_text: str) -> None:
    """Raise XlsxRefused unless every part of the xlsx `data` keeps within the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise XlsxRefused(_damaged()) from None
    names = [info.filename for info in infos]
    if len(infos) > MAX_PARTS or len(set(names)) != len(names):  # readers differ on a name given twice
        raise XlsxRefused(_damaged())
    total = 0
    for info in infos:
        part = _unpack(data, info)  # never more than MAX_PART + 1 bytes, whatever the header says
        if info.filename.endswith((".xml", ".rels", ".vml")):  # what it holds says most about a bomb
            _check_xml(part, limits, too_many_rows=too_many_rows, too_much_text=too_much_text)
        total += len(part)
        if len(part) > MAX_PART or total > MAX_TOTAL:
            raise XlsxRefused(too_much_text)
        if len(part) != info.file_size:  # a header that lies about its part
            raise XlsxRefused(_damaged())


def _check_xml(part: bytes, limits: SheetLimits, *, too_many_rows: str, too_much_text: str) -> None:
    if b"<!DOCTYPE" in part or b"<!ENTITY" in part:  # no xlsx has one; entities can expand without end
        raise XlsxRefused(_damaged())
    body = re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", part[:4096], flags=re.S)
    root = _ROOT.search(body)
    kind = root.group(1) if root else b""
    if kind == b"styleSheet":
        if part.count(b"<") - part.count(b"</") > MAX_STYLE_ELEMENTS:
            raise XlsxRefused(_("This .xlsx file holds more cell formats than any table of orders needs. "
                                "Copy the table into a new workbook, or save it as CSV, and try again."))
    elif kind == b"sst":
        if _count(_SHARED_STRING, part, limits.cells) > limits.cells:
            raise XlsxRefused(too_much_text)
    elif kind in (b"worksheet", b"dialogsheet"):
        _check_sheet(part, limits, too_many_rows=too_many_rows, too_much_text=too_much_text)


def _check_sheet(part: bytes, limits: SheetLimits, *, too_many_rows: str, too_much_text: str) -> None:
    """Rows, cells, and how far the last cell is from A1: a cell without a reference follows the one
    before it, as readers place it."""
    row = column = cells = last_row = last_column = 0
    for tag in _SHEET_TAG.finditer(part):
        attributes = tag.group(2)
        if tag.group(1) == b"row":
            number = _ROW_NUMBER.search(attributes)
            row, column = (int(number.group(1)) if number else row + 1), 0
            if row > limits.rows:
                raise XlsxRefused(too_many_rows)
            continue
        cells += 1
        if cells > limits.cells:
            raise XlsxRefused(too_much_text)
        ref = _CELL_REF.search(attributes)
        if ref:
            column, row = _column_number(ref.group(1)), int(ref.group(2))
            if row > limits.rows:
                raise XlsxRefused(too_many_rows)
        else:
            column += 1
        if column > limits.columns:
            raise XlsxRefused(_damaged())  # past XFD: no spreadsheet writes that
        last_row, last_column = max(last_row, row), max(last_column, column)
        if last_row * last_column > limits.area:
            raise XlsxRefused(_("The sheet has cells far to the right of the table (column %(column)d). "
                                "Delete the columns after the table's last one, save, and try again.",
                                column=last_column))


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number


def _count(pattern: re.Pattern, data: bytes, stop: int) -> int:
    found = 0
    for _match in pattern.finditer(data):
        found += 1
        if found > stop:
            break
    return found


def _unpack(data: bytes, info: zipfile.ZipInfo) -> bytes | bytearray:
    """The part's bytes from its own compressed stream, at most MAX_PART + 1 of them. zipfile would
    stop at the size the header declares; a reader in another language may not."""
    offset = info.header_offset
    header = data[offset:offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise XlsxRefused(_damaged())
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    stream = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return stream[:MAX_PART + 1]
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:  # encrypted, or exotic
        raise XlsxRefused(_damaged())
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()  # grown in place, a megabyte at a time: the part is held once
    pending = stream
    try:
        while pending and len(out) <= MAX_PART:
            out += inflate.decompress(pending, min(STEP, MAX_PART + 1 - len(out)))
            pending = inflate.unconsumed_tail
        if len(out) <= MAX_PART:
            out += inflate.flush(MAX_PART + 1 - len(out))
    except zlib.error:
        raise XlsxRefused(_damaged()) from None
    return out


def _damaged() -> str:
    return _("This .xlsx file could not be opened: save it again from the spreadsheet.")
