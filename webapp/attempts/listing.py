"""How the lists name an attempt to an operator (the customer by name, products by title, the amount)
and how the history is searched. Titles come from the lists as the desk keeps them: a list never
asks JustClick anything, and shows the slug of a product it has no title for."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import phonenumbers


def customer_name(entry: dict) -> str:
    """First and last name as sent ("Павел Орлов"); "" when neither was."""
    sent = entry.get("sent") or {}
    return " ".join(part for part in (sent.get("customer_first_name"), sent.get("customer_last_name")) if part)


def product_titles(entry: dict, catalog) -> list[str]:
    goods = catalog.goods_by_name
    names = [name for name in (entry.get("sent") or {}).get("product_names", "").split(",") if name]
    return [goods.get(name, {}).get("good_title") or name for name in names]


def amount(entry: dict) -> tuple[Decimal | None, bool]:
    """What the order comes to, and whether JustClick said so: the invoice's amount to pay once known,
    else the prices as sent (typed ones, then the catalogue's the attempt recorded; before any coupon).
    None when a price is not known."""
    invoice = entry.get("invoice") or {}
    if invoice.get("sum_to_pay") is not None:
        return Decimal(invoice["sum_to_pay"]), True
    sent = entry.get("sent") or {}
    names = [name for name in sent.get("product_names", "").split(",") if name]
    typed = [price for price in sent.get("product_prices", "").split(",") if price]
    catalogue = entry.get("catalogue_prices") or {}
    try:
        prices = [Decimal(p) for p in typed] + [Decimal(catalogue[name]) for name in names[len(typed):]]
    except (KeyError, InvalidOperation):
        return None, False
    return (sum(prices) if names else None), False


def matching(entries: list[dict], query: str, catalog, region: str | None) -> list[dict]:
    """The attempts whose customer (name, email, phone), invoice number or product (slug or title)
    holds `query`. A phone matches however it is typed: "8 (912) 345-67-89" finds +79123456789."""
    words = query.casefold().split()
    if not words:
        return entries
    phone = _phone(query, region)
    # Without a region to read it in, a long number is compared by its last ten digits: "8 (912) …"
    # and "+7 912 …" are one number whichever trunk or country prefix was typed.
    digits = re.sub(r"\D", "", query)[-10:]
    found = []
    for entry in entries:
        sent = entry.get("sent") or {}
        phones = [sent.get(name) or "" for name in ("customer_phone", "customer_shipping_phone")]
        if phone and phone in phones or len(digits) >= 3 and any(digits in re.sub(r"\D", "", p) for p in phones):
            found.append(entry)
            continue
        invoice = str(entry.get("bill_id") or (entry.get("invoice") or {}).get("number") or "")
        text = " ".join([customer_name(entry), sent.get("customer_middle_name") or "",
                         sent.get("customer_email") or "", invoice, sent.get("product_names") or "",
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
