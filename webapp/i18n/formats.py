"""Money and times as the page's language writes them (Babel, through Flask-Babel's locale and zone).

Money is in ACCOUNT_CURRENCY: "1 500,00 ₽" in Russian, "RUB 1,500.00" in English (English names
the rouble by its code). Times are in ACCOUNT_TIMEZONE (UTC when none is set), to the second, with
the zone's offset.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel.numbers import get_currency_symbol
from flask import current_app
from flask_babel import format_currency, format_date, format_time, get_locale, get_timezone


def money(value) -> str:
    """Written once per amount, currency and language: Babel takes a tenth of a millisecond for each,
    and a list of orders shows the same prices again and again."""
    return _money(str(value), current_app.config["ACCOUNT_CURRENCY"], str(get_locale()))


@lru_cache(maxsize=4096)
def _money(value: str, currency: str, _language: str) -> str:  # the page's language, as a key
    text = format_currency(Decimal(value), currency)
    return _spaced(text, get_currency_symbol(currency, locale=get_locale()))


def _spaced(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel does not apply: a symbol that ends (or starts) with a
    letter, such as "RUB" or "CHF", is kept apart from the digits by a no-break space
    ("RUB 1,500.00", not "RUB1,500.00"); "₽", "$" and "€" stay close."""
    at = text.find(symbol)
    if at < 0 or not symbol:
        return text
    before, after = text[:at], text[at + len(symbol):]
    if after[:1].isdigit() and _letter_like(symbol[-1]):
        after = "\u00a0" + after
    if before[-1:].isdigit() and _letter_like(symbol[0]):
        before += "\u00a0"
    return before + symbol + after


def _letter_like(char: str) -> bool:
    return not unicodedata.category(char).startswith(("S", "Z"))


def localtime(iso: str) -> str:
    """A recorded time (ISO 8601 with its offset): the locale's medium date and long time, in the
    account's zone, e.g. "Jan 31, 2026, 2:05:07 PM +0300" or "31 янв. 2026 г., 14:05:07 +0300".

    Written once per time, language and zone: the history panel beside every order page shows the
    same ten times again and again, and Babel takes a tenth of a millisecond for each."""
    return _localtime(iso, str(get_locale()), str(get_timezone()))


@lru_cache(maxsize=2048)
def _localtime(iso: str, _language: str, _zone: str) -> str:  # the page's language and zone, as keys
    moment = datetime.fromisoformat(iso)
    pattern = get_locale().datetime_formats["medium"]  # how this language joins a date and a time
    return pattern.replace("'", "").replace("{1}", format_date(moment, "medium")).replace(
        "{0}", format_time(moment, "long"))
