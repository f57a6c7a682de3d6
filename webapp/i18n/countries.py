"""Country names in the page's language, listed in that language's alphabetical order.

pycountry ships the ISO 3166 names and their translations; what is sent stays the ISO code.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import lru_cache

import pycountry
from flask_babel import get_locale
from wtforms import SelectChoice


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


@lru_cache(maxsize=8)
def _names(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str | None = None) -> str | None:
    """The country's name in `language` (the page's by default); None for a code that is no country."""
    country = pycountry.countries.get(alpha_2=code) if code else None
    return _names(language or current_language()).gettext(country.name) if country else None


@lru_cache(maxsize=8)
def country_choices(language: str) -> tuple[SelectChoice, ...]:
    """Every country as (ISO code, name in `language`), sorted as that language sorts names."""
    names = _names(language)
    return tuple(sorted((SelectChoice(c.alpha_2, names.gettext(c.name)) for c in pycountry.countries),
                        key=lambda choice: sort_key(choice.label)))


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Every country's ISO code: the values of `country_choices` in any language."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


def sort_key(name: str) -> tuple[str, str]:
    """Alphabetical order without a collation library: case is ignored; a Latin letter with an
    accent sorts with its base letter (Åland among the A's, not after Z); Russian Ё sorts with Е, as
    dictionaries have it (its code point would put it after Я), while Й stays a letter of its own."""
    folded = name.casefold()
    return "".join(_base(char) for char in folded), folded


def _base(char: str) -> str:
    if char == "ё":
        return "е"
    base = unicodedata.normalize("NFD", char)[0]
    return base if base.isascii() else char
