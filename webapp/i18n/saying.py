"""Saying the desk's words in the operator's language where they are shown.

Modules without Flask keep their messages as `Words` (English, with message id and values); an
attempt keeps the desk's words it recorded the same way (its "said"). These helpers translate them
at display, and hand app.js the plural forms it needs for counts it updates in the browser.
"""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale, get_translations, gettext

from webapp.i18n.words import Words

#: Outcomes whose text is the desk's own words; any other outcome's text is JustClick's, shown verbatim.
DESK_WORDS_OUTCOMES = ("unknown", "not_sent", "sending")
#: Numbers that between them reach every plural category of the languages the desk speaks.
PLURAL_SAMPLES = (0, 1, 2, 3, 5, 11, 21, 22, 25, 101, 102, 105)


def say(text) -> str:
    """`text` in the operator's language: a Words by its message id, a plain string if it is one."""
    if isinstance(text, Words):
        return gettext(text.msgid, **{key: say(value) if isinstance(value, Words) else value
                                      for key, value in text.values.items()})
    return gettext(text) if text else (text or "")


def desk_text(entry: dict) -> str:
    """An attempt's text: the desk's words translated, JustClick's own error_text as it came."""
    text = entry.get("text") or ""
    if entry.get("outcome") not in DESK_WORDS_OUTCOMES:
        return text
    said = entry.get("said") or {}
    if said.get("msgid"):
        return gettext(said["msgid"], **(said.get("values") or {}))
    return gettext(text) if text else ""


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
