"""How the lists name an attempt to an operator (the customer by name, products by title, the amount)
and how the history is searched. Titles come from the lists as the desk keeps them: a list never
asks JustClick anything, and shows the slug of a product it has no title for."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import phonenumbers


def customer_name(entry: dict) -> str:
    """First and last name as sent ("Павел Орлов"); "" when neither was."""
    sent = _sent(entry)
    parts = (_text(sent, "customer_first_name"), _text(sent, "customer_last_name"))
    return " ".join(part for part in parts if part)


def product_titles(entry: dict, catalog) -> list[str]:
    goods = catalog.goods_by_name
    return [goods.get(name, {}).get("good_title") or name for name in _names(_sent(entry))]


# A stored attempt is read as data that may be of any shape (an old release's, a damaged store's): a
# list shows what it can and never fails on it.
def _sent(entry: dict) -> dict:
    sent = entry.get("sent")
    return sent if isinstance(sent, dict) else {}


def _text(values: dict, name: str) -> str:
    value = values.get(name)
    return value if isinstance(value, str) else ""


def _names(sent: dict) -> list[str]:
    return [name for name in _text(sent, "product_names").split(",") if name]


def amount(entry: dict) -> tuple[Decimal | None, bool]:
    """What the order comes to, and whether JustClick said so: the invoice's amount to pay once known,
    else the prices as sent (typed ones, then the catalogue's the attempt recorded; before any coupon).
    None when a price is not known."""
    invoice = entry.get("invoice")
    try:
        if isinstance(invoice, dict) and invoice.get("sum_to_pay") is not None:
            return Decimal(invoice["sum_to_pay"]), True
        sent = _sent(entry)
        names = _names(sent)
        typed = [price for price in _text(sent, "product_prices").split(",") if price]
        catalogue = entry.get("catalogue_prices") or {}
        prices = [Decimal(p) for p in typed] + [Decimal(catalogue[name]) for name in names[len(typed):]]
    except (KeyError, TypeError, InvalidOperation):
        return None, False
    return (sum(prices) if names else None), False


def matching(entries: list[dict], query: str, catalog, region: str | None) -> list[dict]:
    """The attempts whose customer (name, email, phone), invoice number or product (slug or title)
    holds `query`. A phone matches however it is typed: "8 (912) 345-67-89" finds +79123456789."""
    words = query.casefold().split()
    if not words:
        return entries
    # A query that is all digits and phone punctuation may be a phone (or an invoice number); one with
    # words in it is matched by its words. Without a region to read it in, a long number is compared
    # by its last ten digits: "8 (912) …" and "+7 912 …" are one number whatever prefix was typed.
    phone_like = bool(re.fullmatch(r"[\d\s()+\-.]+", query))
    phone = _phone(query, region) if phone_like else None
    digits = re.sub(r"\D", "", query)[-10:] if phone_like else ""
    found = []
    for entry in entries:
        sent = _sent(entry)
        phones = [_text(sent, name) for name in ("customer_phone", "customer_shipping_phone")]
        by_digits = len(digits) >= 3 and any(digits in re.sub(r"\D", "", p) for p in phones)
        if phone and phone in phones or by_digits:
            found.append(entry)
            continue
        invoice = entry.get("invoice") if isinstance(entry.get("invoice"), dict) else {}
        number = str(entry.get("bill_id") or invoice.get("number") or "")
        text = " ".join([customer_name(entry), _text(sent, "customer_middle_name"),
                         _text(sent, "customer_email"), number, _text(sent, "product_names"),
                         *product_titles(entry, catalog)]).casefold()
        if all(word in text for word in words):
            found.append(entry)
    return found


def _phone(query: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(query, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) \
        if phonenumbers.is_valid_number(number) else None
