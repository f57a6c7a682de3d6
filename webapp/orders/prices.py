"""Reading a typed price the same way whatever the page's language.

An operator of either language may type 1500, 1500.50, 1 500,50 (any space, no-break ones
included), 1500,5 or 1,500.50. Spaces only ever group digits; the rest is read by Babel, strictly,
as English and as Russian writing it. Where the two readings differ ("1,500": fifteen hundred in
English, one and a half in Russian) the desk does not guess: it asks the operator to type the one
they mean, so no page language can turn a price into another.

The account's currency may stand before or after the number, as the desk writes money in either
language ("1 500,50 ₽", "RUB 1,500.50") and as people write roubles ("1500 руб.", "1 500 р."); any
other currency's sign is refused rather than dropped, since the amount would then be wrong.
"""

from __future__ import annotations

import unicodedata
from contextlib import suppress
from decimal import Decimal
from functools import lru_cache

from babel.numbers import NumberFormatError, get_currency_symbol, list_currencies, parse_decimal
from flask_babel import gettext as _

from webapp.config import LANGUAGES

# How Russian speakers write the rouble after an amount, besides its sign and code.
ROUBLE_WORDS = ("рублей", "рубля", "рубль", "руб.", "руб", "р.", "р")


def read_price(typed: str, currency: str = "RUB") -> Decimal:
    """The number in `typed` (not empty), with or without `currency`; ValueError with the operator's
    message otherwise."""
    text = _without_currency("".join(typed.split()).casefold(), currency)
    if any(unicodedata.category(char) == "Sc" for char in text) or _currency_code(text):
        raise ValueError(_("Prices are in %(currency)s: type this one as a number in %(currency)s, "
                           "e.g. 1500 or 1500.50.", currency=currency))
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


def _without_currency(text: str, currency: str) -> str:
    """`text` without one mark of `currency` at its start or its end."""
    for mark in _marks(currency):
        if text.endswith(mark) and text[:-len(mark)]:
            return text[:-len(mark)]
        if text.startswith(mark) and text[len(mark):]:
            return text[len(mark):]
    return text


def _currency_code(text: str) -> bool:
    """Whether `text` starts or ends with a currency's ISO code ("1500usd")."""
    codes = _codes()
    return text[:3].upper() in codes or text[-3:].upper() in codes


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=8)
def _marks(currency: str) -> tuple[str, ...]:
    """The ways `currency` is written beside an amount, longest first ("руб." before "р.")."""
    marks = {currency, *(get_currency_symbol(currency, locale=language) for language in LANGUAGES)}
    if currency == "RUB":
        marks.update(ROUBLE_WORDS)
    return tuple(sorted({mark.casefold() for mark in marks}, key=len, reverse=True))
