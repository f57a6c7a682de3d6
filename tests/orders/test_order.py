"""The order -> createorder parameters: empties, billing copy, formats and JustClick's price positions."""

from datetime import datetime
from decimal import Decimal

from webapp.orders.order import CREATEORDER_FIELDS, ProductLine, build_params, plan_products

D = Decimal


def effective_prices(plan, catalogue):
    """What JustClick will charge per product: leading run from product_prices, the rest catalogue."""
    return [plan.prices[i] if i < len(plan.prices) else catalogue.get(name)
            for i, name in enumerate(plan.names)]


def test_no_override_sends_no_prices():
    plan = plan_products([ProductLine("a"), ProductLine("b")])
    assert plan.names == ["a", "b"] and plan.prices == [] and not plan.reordered


def test_leading_overrides_keep_order():
    plan = plan_products([ProductLine("a", D("10")), ProductLine("b", D("20")), ProductLine("c")])
    assert plan.names == ["a", "b", "c"]
    assert plan.prices == [D("10"), D("20")]
    assert not plan.reordered and plan.order == (0, 1, 2)


def test_an_override_after_a_catalogue_line_moves_first_and_no_catalogue_price_is_sent():
    # JustClick's price may have changed since the desk cached it: only typed prices are sent.
    plan = plan_products([ProductLine("a"), ProductLine("b", D("5")), ProductLine("c")])
    assert plan.names == ["b", "a", "c"]
    assert plan.prices == [D("5")]
    assert plan.reordered and plan.order == (1, 0, 2)


def test_overridden_lines_go_first_in_the_order_typed():
    lines = [ProductLine("a"), ProductLine("b", D("5")), ProductLine("c"), ProductLine("d", D("0"))]
    plan = plan_products(lines)
    assert plan.reordered
    assert plan.names == ["b", "d", "a", "c"]
    assert plan.prices == [D("5"), D("0")]


def test_every_override_reaches_its_product_and_only_typed_prices_are_sent():
    """Whatever the arrangement, each product ends up with exactly the operator's price or its own."""
    catalogue = {"a": D("1"), "c": D("3")}
    cases = [
        [ProductLine("a"), ProductLine("b", D("9")), ProductLine("c")],
        [ProductLine("x"), ProductLine("b", D("9")), ProductLine("c", D("8"))],
        [ProductLine("a", D("2")), ProductLine("x"), ProductLine("c", D("4")), ProductLine("y")],
    ]
    for lines in cases:
        plan = plan_products(lines)
        assert sorted(plan.names) == sorted(line.good_name for line in lines)
        assert sorted(plan.prices) == sorted(line.price for line in lines if line.price is not None)
        wanted = {line.good_name: line.price if line.price is not None else catalogue.get(line.good_name)
                  for line in lines}
        got = dict(zip(plan.names, effective_prices(plan, catalogue), strict=True))
        assert got == wanted, lines


def test_build_params_leaves_empty_fields_out_and_formats_values():
    values = {
        "customer_email": " ivan@example.com ",
        "customer_first_name": "Иван",
        "customer_last_name": "",
        "customer_phone": None,
        "order_created_at": datetime(2026, 11, 2, 9, 5),
        "affiliates": "alpha,beta",
        "coupon": "585",
    }
    params, plan = build_params(values, [ProductLine("digital"), ProductLine("book", D("1500.5"))])
    assert params == {
        "customer_email": "ivan@example.com",
        "customer_first_name": "Иван",
        "order_created_at": "2026-11-02 09:05:00",
        "product_names": "book,digital",
        "product_prices": "1500.5",
        "coupon": "585",
        "affiliates": "alpha,beta",
    }
    assert plan.reordered
    assert list(params) == [name for name in CREATEORDER_FIELDS if name in params]  # documented order
    assert "rpsKey" not in params


def test_billing_same_as_shipping_copies_the_address():
    values = {"customer_email": "a@b.co", "customer_shipping": "Tverskaya 1",
              "customer_shipping_city": "Moscow", "customer_shipping_country_code": "RU",
              "customer_billing_city": "ignored"}
    params, _ = build_params(values, [ProductLine("digital")], billing_same_as_shipping=True)
    assert params["customer_billing_address_1"] == "Tverskaya 1"
    assert params["customer_billing_city"] == "Moscow"
    assert params["customer_billing_country_code"] == "RU"
    assert "customer_billing_zip" not in params

