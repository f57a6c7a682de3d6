"""The order as the desk sees it, turned into JustClick `createorder` parameters.

Pure functions, no Flask: the form hands over validated values, this module decides what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

#: Every createorder field except rpsKey, in the order JustClick documents them.
CREATEORDER_FIELDS = (
    "customer_email", "customer_first_name", "customer_last_name", "customer_middle_name",
    "customer_phone", "order_ip",
    "customer_shipping", "customer_shipping_phone", "customer_shipping_address_2",
    "customer_shipping_city", "customer_shipping_state", "customer_shipping_zip",
    "customer_shipping_country_code",
    "customer_billing_address_1", "customer_billing_address_2", "customer_billing_city",
    "customer_billing_state", "customer_billing_zip", "customer_billing_country_code",
    "order_tag", "note", "order_created_at", "order_paid_at", "order_status", "order_confirmed",
    "order_sales_manager", "product_names", "product_prices", "payment_method", "coupon",
    "affiliates", "utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term",
)

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
    reordered: bool = False  # lines were moved so each override reaches its product
    filled: tuple[str, ...] = ()  # products whose catalogue price was sent to keep positions


def plan_products(lines: list[ProductLine], catalogue: dict[str, Decimal] | None = None) -> ProductPlan:
    """Honour JustClick's positional price rule.

    Prices apply to a leading run of products; the rest take their catalogue price. So every
    override must sit inside that run without giving any other product a price the operator did
    not set: fill the gaps with known catalogue prices, or else move the overridden lines first.
    """
    catalogue = catalogue or {}
    names = [line.good_name for line in lines]
    overridden = [i for i, line in enumerate(lines) if line.price is not None]
    if not overridden:
        return ProductPlan(names, [])
    head = lines[: overridden[-1] + 1]
    gaps = [line.good_name for line in head if line.price is None]
    if all(name in catalogue for name in gaps):
        prices = [line.price if line.price is not None else catalogue[line.good_name] for line in head]
        return ProductPlan(names, prices, filled=tuple(gaps))
    ordered = [line for line in lines if line.price is not None] + [
        line for line in lines if line.price is None
    ]
    return ProductPlan(
        [line.good_name for line in ordered],
        [line.price for line in ordered if line.price is not None],
        reordered=True,
    )


def format_price(price: Decimal) -> str:
    return format(price, "f")


def build_params(values: dict, lines: list[ProductLine], catalogue: dict[str, Decimal] | None = None,
                 *, billing_same_as_shipping: bool = False) -> tuple[dict[str, str], ProductPlan]:
    """createorder parameters from validated form values; empty fields are left out entirely."""
    values = dict(values)
    if billing_same_as_shipping:
        for shipping, billing in SHIPPING_TO_BILLING.items():
            values[billing] = values.get(shipping)
    plan = plan_products(lines, catalogue)
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
    """What the summary panel shows: effective prices and the exact product fields to be sent."""
    prices = catalog.prices
    goods = catalog.goods_by_name
    rows, lines = [], []
    for entry in form.products:
        name = (entry.good_name.data or "").strip()
        if not name:
            continue
        override = entry.price.data  # None when empty or not a valid price
        price = override if override is not None else prices.get(name)
        rows.append({"good_name": name, "title": goods.get(name, {}).get("good_title", name),
                     "price": price, "overridden": override is not None,
                     "invalid_price": bool(entry.price.process_errors)})
        lines.append(ProductLine(name, override))
    plan = plan_products(lines, prices)
    known = [row["price"] for row in rows]
    return {
        "rows": rows,
        "plan": plan,
        "total": sum(known) if rows and all(p is not None for p in known) else None,
        "coupon": catalog.coupon_code(form.coupon.data) if form.coupon.data else None,
    }
