"""Reading a typed phone number into the international form the desk sends (E.164).

A number without `+` is read in the one region the desk is configured for (DEFAULT_PHONE_REGION),
never in a country guessed from an address: "8 912 345-67-89" is a Moscow mobile in Russia and a
Munich landline in Germany, and the address says nothing about which one the customer gave.
"""

from __future__ import annotations

import phonenumbers

from webapp.i18n.countries import country_name
from webapp.i18n.words import Words

# Said to a sales operator: what to type now, and who can make the desk read numbers without +.
PLUS_NEEDED = Words("Type it with + and the country code, e.g. +7 912 345-67-89. To type numbers without +, "
                    "ask your administrator to set the desk's phone region.")
NO_EXTENSIONS = Words("JustClick has no place for an extension: send the number without it and put the "
                      "extension in the note.")


class PhoneError(ValueError):
    """The text cannot be sent as a phone number; the message says why, for the operator."""


def read_phone(text: str, region: str | None) -> str:
    """The number in E.164 (`+79123456789`), or PhoneError."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        if region is None and not text.lstrip().startswith("+"):
            raise PhoneError(PLUS_NEEDED) from None
        raise PhoneError(Words("This is not a phone number.")) from None
    if number.extension:  # parse() keeps it apart, and E.164 would drop it without a word
        raise PhoneError(NO_EXTENSIONS)
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(Words("This phone number is not valid for its country."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def reading(text: str | None, region: str | None) -> str:
    """What the desk will send for `text`, in words, so that a wrong reading is seen before sending
    (Words: the caller says them in the operator's language)."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        sent = read_phone(text, region)
    except PhoneError as exc:
        return exc.args[0]
    country = country_name(phonenumbers.region_code_for_number(phonenumbers.parse(sent)))
    if country:
        return Words("Sent as %(number)s (%(country)s).", number=sent, country=country)
    return Words("Sent as %(number)s.", number=sent)
