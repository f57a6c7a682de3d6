"""Reading a typed price the same way whatever the page's language.

An operator of either language may type 1500, 1500.50, 1 500,50 (any space, no-break ones
included), 1500,5 or 1,500.50. Spaces only ever group digits; the rest is read by Babel, strictly,
as English and as Russian writing it. Where the two readings differ ("1,500": fifteen hundred in
English, one and a half in Russian) the desk does not guess: it asks the operator to type the one
they mean, so no page language can turn a price into another.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import gettext as _

from webapp.config import LANGUAGES


def read_price(typed: str) -> Decimal:
    """The number in `typed` (not empty); ValueError with the operator's message otherwise."""
    text = "".join(typed.split())
    readings = []
    for language in LANGUAGES:
        with suppress(NumberFormatError):
            readings.append(parse_decimal(text, locale=language, strict=True))
    if not readings or not all(reading.is_finite() for reading in readings):
        raise ValueError(_("Enter a price as a number, e.g. 1500 or 1500.50."))
    different = [reading for reading in readings if reading != readings[0]]
    if different:
        wide, narrow = sorted({_plain(readings[0]), _plain(different[0])}, key=Decimal, reverse=True)
        raise ValueError(_("“%(typed)s” could mean %(wide)s or %(narrow)s: type the one you mean, as "
                           "%(wide)s or %(narrow)s.", typed=typed.strip(), wide=wide, narrow=narrow))
    return readings[0]


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
