"""Saying the desk's words in the operator's language where they are shown.

Modules without Flask keep their messages as `Words` (English, with message id and values); an
attempt keeps the desk's words it recorded the same way (its "said"). These helpers translate them
at display, and hand app.js the plural forms it needs for counts it updates in the browser.
"""

from __future__ import annotations

from babel import Locale
from flask import current_app, g
from flask_babel import get_locale, get_translations, gettext

from webapp.i18n.words import Words

#: Numbers that between them reach every plural category of the languages the desk speaks.
PLURAL_SAMPLES = (0, 1, 2, 3, 5, 11, 21, 22, 25, 101, 102, 105)


def say(text) -> str:
    """`text` in the operator's language: a Words by its message id, a plain string if it is one."""
    if isinstance(text, Words):
        return gettext(text.msgid, **{key: say(value) if isinstance(value, Words) else value
                                      for key, value in text.values.items()})
    return gettext(text) if text else (text or "")


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """For app.js (as JSON): each plural category of the current language (as Intl.PluralRules names
    them) -> the translated phrase, with `{n}` where the number goes (`%(num)s` in the message);
    "lang" says whose categories they are."""
    locale = get_locale() or Locale("en")
    translations = get_translations()
    forms: dict[str, str] = {"lang": str(locale).replace("_", "-")}
    for n in PLURAL_SAMPLES:
        phrase = translations.ungettext(singular, plural, n)
        forms.setdefault(locale.plural_form(n), phrase.replace("%(num)s", "{n}"))
    return forms


#: Each language by its own name, for the switch in the header.
NAMES = {"en": "English", "ru": "Русский"}


def page_language() -> str:
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def page_translations():
    """The page's catalogue, looked up once a request: Flask-Babel looks it up on every call (about
    20 µs), and the order page says a few hundred translated words."""
    if "translations" not in g:
        g.translations = get_translations()
    return g.translations
