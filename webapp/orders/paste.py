"""Read customer details out of pasted text (an email signature, a message).

A best guess an operator then checks: it only ever suggests values for the form, never sends.
Emails and phones come from their libraries; names and addresses from a few plain rules.
"""

from __future__ import annotations

import re

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email

from webapp.orders.phones import PhoneError, read_phone

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
POSTCODE = re.compile(r"\b(\d{6}|\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b")
STREET = re.compile(
    r"(\b(ул|улица|пр|пр-т|проспект|пер|переулок|ш|шоссе|наб|бульвар|б-р|д|дом|кв|корп|стр)\b\.?)"
    r"|\b(street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|drive|dr|way|suite|apt|floor)\b\.?"
    r"|^\d+\s+\w+",
    re.IGNORECASE,
)
STATE_AFTER_CITY = re.compile(r",\s*([A-Z]{2})$")
CITY_PREFIX = re.compile(r"^(г\.|город)\s*", re.IGNORECASE)
NAME_WORD = re.compile(r"^[A-ZА-ЯЁ][a-zа-яё'’-]+$")
PATRONYMIC = re.compile(r"(вич|вна|ична|инична|ьич)$", re.IGNORECASE)
GREETING = re.compile(r"^(hi|hello|dear|regards|best|thanks|thank you|cheers|здравствуйте|привет|"
                      r"спасибо|с уважением|добрый день|всего доброго)\b", re.IGNORECASE)
LABEL = re.compile(r"^\s*[\w .-]{1,20}:\s*")  # "Phone: …", "Адрес: …"
COUNTRY_NAMES = {"россия": "RU", "russia": "RU", "рф": "RU", "usa": "US", "united states": "US",
                 "uk": "GB", "united kingdom": "GB", "england": "GB", "казахстан": "KZ", "беларусь": "BY",
                 "украина": "UA", "германия": "DE", "germany": "DE"}


def read_customer(text: str, default_region: str | None = None) -> dict[str, str]:
    """Form values (API names) found in `text`; only what was recognised."""
    found: dict[str, str] = {}
    lines = [LABEL.sub("", line).strip(" ,;") for line in text.splitlines()]
    lines = [line for line in lines if line]

    for match in EMAIL.finditer(text):
        try:
            found["customer_email"] = validate_email(match.group(), check_deliverability=False).normalized
            break
        except EmailNotValidError:
            continue

    country = _country(lines)
    if country:
        found["customer_shipping_country_code"] = country
    # Where a number is, the address's country (else Russia: most JustClick shops are) helps find;
    # what it reads as is the phone field's rule alone (phones.py), so that both say the same.
    region = country or default_region or "RU"
    if phone := _phone(text, region, default_region):
        found["customer_phone"] = phone

    # A name stands on a line of its own, or between commas ("Please invoice Olivia Brown, …").
    parts = [part.strip() for line in lines for part in line.split(",")]
    name = next((line for line in lines if _looks_like_name(line)), None) or next(
        (_last_words(part) for part in parts if _last_words(part)), None)
    if name:
        found.update(_split_name(name.split()))

    address = [line for line in lines if line != name and STREET.search(line) and "@" not in line]
    if address:
        street, postcode, city = _split_address(address[0])
        found["customer_shipping"] = street
        if postcode:
            found["customer_shipping_zip"] = postcode
        if city:
            found["customer_shipping_city"] = city
    for line in lines:
        if line == name or "@" in line or (address and line == address[0]) or _is_phone(line, region):
            continue
        if postcode := POSTCODE.search(line):
            found.setdefault("customer_shipping_zip", postcode.group())
            city = line.replace(postcode.group(), "").strip(" ,")
            city = _without_country(city)
            if state := STATE_AFTER_CITY.search(city):  # "San Francisco, CA"
                found.setdefault("customer_shipping_state", state[1])
                city = city[: state.start()]
            if city and not any(ch.isdigit() for ch in city):
                found.setdefault("customer_shipping_city", CITY_PREFIX.sub("", city).strip(" ,"))
        elif CITY_PREFIX.match(line):
            found.setdefault("customer_shipping_city", CITY_PREFIX.sub("", line).strip(" ,"))
    return found


def _phone(text: str, finding_region: str, default_region: str | None) -> str | None:
    """The first phone number in the text, as the phone field would send it; as typed when the phone
    field could not (no + and no DEFAULT_PHONE_REGION, or not a number of that region): it says why."""
    matches = phonenumbers.PhoneNumberMatcher(text, finding_region, leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matches:
        try:
            return read_phone(match.raw_string, default_region)
        except PhoneError:
            return match.raw_string.strip()
    return None


def _split_address(line: str) -> tuple[str, str | None, str | None]:
    """Street, postcode and city of one line in the common Russian order ("125009, г. Москва,
    ул. Тверская, д. 7, кв. 12"); a line without them is all street."""
    parts = [part.strip() for part in line.split(",")]
    postcode = next((p for p in parts if POSTCODE.fullmatch(p)), None)
    city = next((p for p in parts if CITY_PREFIX.match(p)), None)
    if not (postcode or city):
        return line, None, None
    street = [p for p in parts
              if p not in (postcode, city) and not _is_country(p) and p.casefold() not in COUNTRY_NAMES]
    return ", ".join(street), postcode, CITY_PREFIX.sub("", city).strip() if city else None


def _looks_like_name(line: str) -> bool:
    words = line.replace(",", " ").split()
    return 2 <= len(words) <= 3 and all(NAME_WORD.match(w) for w in words) and not GREETING.match(line)


def _last_words(part: str) -> str | None:
    """A name closing a phrase: "Please invoice Olivia Brown" -> "Olivia Brown"."""
    words = part.split()
    tail = words[-2:]
    if len(words) > 2 and all(NAME_WORD.match(w) for w in tail) and not NAME_WORD.match(words[-3]):
        return " ".join(tail)
    return None


def _split_name(words: list[str]) -> dict[str, str]:
    # Russian order is Surname Name Patronymic; a patronymic in last place gives it away.
    if len(words) == 3 and PATRONYMIC.search(words[2]):
        return {"customer_last_name": words[0], "customer_first_name": words[1],
                "customer_middle_name": words[2]}
    if len(words) == 3:
        return {"customer_first_name": words[0], "customer_middle_name": words[1],
                "customer_last_name": words[2]}
    return {"customer_first_name": words[0], "customer_last_name": words[1]}


def _country(lines: list[str]) -> str | None:
    for line in reversed(lines):  # a country usually closes an address
        for part in reversed(line.split(",")):
            word = part.strip().casefold()
            if word in COUNTRY_NAMES:
                return COUNTRY_NAMES[word]
            try:
                if len(word) > 3:
                    return pycountry.countries.lookup(word).alpha_2
            except LookupError:
                continue
    return None


def _without_country(text: str) -> str:
    parts = [p.strip() for p in text.split(",")]
    return ", ".join(p for p in parts if p.casefold() not in COUNTRY_NAMES and not _is_country(p))


def _is_country(word: str) -> bool:
    try:
        return len(word) > 3 and bool(pycountry.countries.lookup(word))
    except LookupError:
        return False


def _is_phone(line: str, region: str) -> bool:
    return any(True for _ in phonenumbers.PhoneNumberMatcher(line, region))
