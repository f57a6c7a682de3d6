"""Which order field a spreadsheet column fills, from its header.

A header matches an order field by the API name (`customer_email`), the form's label in English or
Russian, or a common variant ("E-mail", "Телефон", "Товар"). These words are data the desk reads,
not text it shows, so they are not translated.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from webapp.justclick.client import CREATEORDER_FIELDS
from webapp.orders.form import API_LABELS

#: A column of whole names ("Иванов Иван Сергеевич", as Russian tables keep them): no order field of
#: its own, it fills the last, first and middle names (table.full_name_parts).
FULL_NAME = "customer_full_name"
#: The last, first and middle names, in the order a Russian full name gives them.
NAME_ORDER = ("customer_last_name", "customer_first_name", "customer_middle_name")



def _fields() -> dict:
    """The fields a column may fill, with the label the operator knows each by, in the form's order;
    the full name right after the three names it fills."""
    fields = {}
    for name in CREATEORDER_FIELDS:
        fields[name] = API_LABELS[name]
        if name == "customer_middle_name":
            fields[FULL_NAME] = _l("Full name (last, first, middle)")
    return fields


FIELDS = _fields()

ALIASES = {
    "customer_email": ["email", "e-mail", "e mail", "mail", "email address", "customer email", "почта",
                       "электронная почта", "эл. почта", "эл почта", "емейл", "имейл", "e-mail адрес"],
    "customer_first_name": ["first name", "firstname", "given name", "name", "имя"],
    "customer_last_name": ["last name", "lastname", "surname", "family name", "фамилия"],
    "customer_middle_name": ["middle name", "patronymic", "отчество"],
    FULL_NAME: ["фио", "ф.и.о.", "full name", "fullname", "фамилия имя отчество", "полное имя"],
    "customer_phone": ["phone", "telephone", "tel", "mobile", "phone number", "телефон", "тел",
                       "мобильный", "мобильный телефон", "номер телефона"],
    "order_ip": ["ip", "ip address", "customer ip address", "ip-адрес", "ip адрес"],
    "product_names": ["product", "products", "good", "goods", "item", "items", "product name", "course",
                      "товар", "товары", "продукт", "продукты", "курс", "наименование"],
    "product_prices": ["price", "prices", "price override", "amount", "sum", "цена", "цены", "стоимость",
                       "сумма"],
    "customer_shipping": ["address", "shipping address", "delivery address", "адрес", "адрес доставки"],
    "customer_shipping_address_2": ["address line 2", "address, line 2", "адрес, строка 2"],
    "customer_shipping_city": ["city", "town", "город"],
    "customer_shipping_state": ["region", "state", "region / state", "регион", "область", "край"],
    "customer_shipping_zip": ["postcode", "zip", "zip code", "postal code", "индекс", "почтовый индекс"],
    "customer_shipping_country_code": ["country", "country code", "страна"],
    "customer_shipping_phone": ["delivery phone", "телефон доставки"],
    "order_status": ["status", "order status", "статус", "статус заказа"],
    "order_confirmed": ["confirmed", "подтвержден", "подтверждён"],
    "order_created_at": ["created at", "created", "order date", "date", "дата", "дата заказа",
                         "дата создания", "создан"],
    "order_paid_at": ["paid at", "paid", "payment date", "date paid", "дата оплаты", "оплачен"],
    "payment_method": ["payment method", "payment", "способ оплаты", "оплата"],
    "coupon": ["coupon", "coupon code", "promo code", "promocode", "promo", "купон", "промокод"],
    "order_tag": ["tag", "order tag", "тег", "метка", "тег заказа"],
    "note": ["note", "notes", "comment", "comments", "примечание", "комментарий"],
    "order_sales_manager": ["manager", "sales manager", "менеджер", "менеджер продаж"],
    "affiliates": ["affiliate", "affiliates", "partner", "partners", "партнер", "партнёр", "партнеры",
                   "партнёры"],
}


def _key(text: str) -> str:
    """A header as compared: case, "ё", spaces and punctuation do not matter."""
    return re.sub(r"[\W_]+", "", text.casefold().replace("ё", "е"))


def _index() -> dict[str, str]:
    index = {}
    for name in FIELDS:
        for word in (name, FIELDS[name], *ALIASES.get(name, ())):
            index.setdefault(_key(word), name)
    return index


_INDEX = _index()


def match_header(header: str) -> str | None:
    return _INDEX.get(_key(header)) if header.strip() else None
