"""The order as the desk sees it, turned into JustClick `createorder` parameters.

Pure functions, no Flask: the form hands over validated values, this module decides what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from webapp.justclick.client import CREATEORDER_FIELDS

#: Shipping field -> the billing field it fills when billing is "same as shipping".
SHIPPING_TO_BILLING = {
    "customer_shipping": "customer_billing_address_1",
    "customer_shipping_address_2": "customer_billing_address_2",
    "customer_shipping_city": "customer_billing_city",
    "customer_shipping_state": "customer_billing_state",
    "customer_shipping_zip": "customer_billing_zip",
    "customer_shipping_country_code": "customer_billing_country_code",
}

API_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class ProductLine:
    good_name: str
    price: Decimal | None = None  # None: the catalogue price applies


@dataclass(frozen=True)
class ProductPlan:
    """What goes into product_names / product_prices, and how it was arranged."""

    names: list[str]
    prices: list[Decimal]
    order: tuple[int, ...] = ()  # the operator's line numbers (from 0) in the order they are sent

    @property
    def reordered(self) -> bool:  # lines were moved so each typed price reaches its product
        return list(self.order) != sorted(self.order)


def plan_products(lines: list[ProductLine]) -> ProductPlan:
    """Honour JustClick's positional price rule.

    Prices apply to a leading run of products; the rest take their catalogue price. So the lines
    with a typed price go first (each group as typed), and only typed prices are sent: a catalogue
    price sent to hold a position would override what JustClick charges with what the desk cached.
    """
    order = tuple(sorted(range(len(lines)), key=lambda i: lines[i].price is None))
    return ProductPlan(
        [lines[i].good_name for i in order],
        [lines[i].price for i in order if lines[i].price is not None],
        order,
    )


def format_price(price: Decimal) -> str:
    return format(price, "f")


def build_params(values: dict, lines: list[ProductLine], *,
                 billing_same_as_shipping: bool = False) -> tuple[dict[str, str], ProductPlan]:
    """createorder parameters from validated form values; empty fields are left out entirely."""
    values = dict(values)
    if billing_same_as_shipping:
        for shipping, billing in SHIPPING_TO_BILLING.items():
            values[billing] = values.get(shipping)
    plan = plan_products(lines)
    values["product_names"] = ",".join(plan.names)
    values["product_prices"] = ",".join(format_price(p) for p in plan.prices)
    params = {}
    for name in CREATEORDER_FIELDS:
        text = _as_text(values.get(name))
        if text:
            params[name] = text
    return params, plan


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(API_DATETIME)
    if isinstance(value, Decimal):
        return format_price(value)
    if isinstance(value, list | tuple):
        return ",".join(str(v).strip() for v in value if str(v).strip())
    return str(value).strip()


def summarize(form, catalog) -> dict:
    """What the summary panel shows: the lines in the order they are sent, their effective prices
    (the typed one, else the catalogue's as far as the desk knows it) and the exact product fields."""
    prices = catalog.prices
    goods = catalog.goods_by_name
    rows, lines = [], []
    for entry in form.products:
        name = (entry.good_name.data or "").strip()
        if not name:
            continue
        override = entry.price.data  # None when empty or not a valid price
        invalid = bool(entry.price.process_errors)
        # A price typed wrong is unknown, never the catalogue's: the total would not be what is sent.
        price = override if override is not None else None if invalid else prices.get(name)
        rows.append({"good_name": name, "title": goods.get(name, {}).get("good_title", name),
                     "price": price, "overridden": override is not None, "invalid_price": invalid})
        lines.append(ProductLine(name, override))
    plan = plan_products(lines)
    rows = [rows[i] for i in plan.order]
    known = [row["price"] for row in rows]
    return {
        "rows": rows,
        "plan": plan,
        "total": sum(known) if rows and all(p is not None for p in known) else None,
        "coupon": catalog.coupon_code(form.coupon.data) if form.coupon.data else None,
    }
