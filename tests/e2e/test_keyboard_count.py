"""A typical order, typed with the keyboard alone, counted key by key."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS

GOODS = {good["good_name"]: good for good in SEED_GOODS}
WELCOME = next(c for c in SEED_COUPONS if c["coupon"] == "welcome10")
MOVES = {"Tab", "Shift+Tab", "ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"}


class CountingKeys:
    """The page's keyboard, counting the presses that move: Tab and the arrows."""

    def __init__(self, page: Page):
        self.keyboard, self.moves = page.keyboard, 0

    def press(self, key: str):
        self.moves += key in MOVES
        self.keyboard.press(key)

    def type(self, text: str):
        self.keyboard.type(text)


def matches(query: str) -> list[str]:
    """The picker's matches for a query, as the desk searches (title, slug, id), in catalogue order."""
    return [g["good_name"] for g in SEED_GOODS
            if query.casefold() in f"{g['good_title']} {g['good_name']} {g['id']}".casefold()]


def test_a_typical_order_takes_at_most_20_moves_from_first_field_to_create_order(live_desk, page, console):
    live_desk.open(page)
    keys = CountingKeys(page)
    focused = lambda: page.evaluate("document.activeElement.id")  # noqa: E731

    assert focused() == "customer_email"  # the first field, ready to type
    keys.type("typical@example.com")
    keys.press("Tab")
    keys.type("+7 912 345 67 89")
    keys.press("Tab")
    keys.type("Анна")
    keys.press("Tab")
    keys.type("Смирнова")
    while focused() != "product-search":
        keys.press("Tab")

    # Several matches, none highlighted: Enter adds the first.
    assert len(matches("ing")) > 1
    keys.type("ing")
    expect(page.locator("#product-results .picker-option")).to_have_count(len(matches("ing")))
    keys.press("Enter")
    expect(page.locator("#products-0-good_name")).to_have_value(matches("ing")[0])
    expect(page.locator("#product-search")).to_be_focused()
    # A product's numeric id finds it.
    webinar = GOODS["webinar-funnels"]
    keys.type(str(webinar["id"]))
    expect(page.locator("#product-results .picker-option")).to_have_count(1)
    keys.press("Enter")
    expect(page.locator("#products-1-good_name")).to_have_value("webinar-funnels")

    while focused() != "products-0-price":
        keys.press("Tab")
    keys.type("1 500")
    while focused() != "coupon":
        keys.press("Tab")
    keys.type(WELCOME["coupon"][:3])  # a select chooses by typing its option's text
    expect(page.locator("#coupon")).to_have_value(str(WELCOME["id"]))
    while focused() != "submit-order":
        keys.press("Tab")
        assert keys.moves <= 20, "Create order is more than 20 moves away"
    keys.press("Enter")

    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()
    [sent] = live_desk.book.all()
    params = sent["params"]
    assert (params["customer_email"], params["customer_phone"], params["customer_first_name"]) == (
        "typical@example.com", "+79123456789", "Анна")
    assert params["product_names"] == f"{matches('ing')[0]},webinar-funnels"
    assert params["product_prices"] == "1500" and params["coupon"] == str(WELCOME["id"])
    assert keys.moves <= 20
    print(f"typical order: {keys.moves} moves")  # shown with -s, for the record
    console.assert_clean()


def test_a_date_takes_at_most_two_tab_stops(live_desk, page, console):
    live_desk.open(page)
    page.locator("#section-details summary").click()
    created = page.get_by_label("Created at")
    created.focus()
    stops = 1
    while page.evaluate("document.activeElement.id") == "order_created_at":
        page.keyboard.press("Tab")
        stops += 1 if page.evaluate("document.activeElement.id") == "order_created_at" else 0
        assert stops <= 10
    assert stops <= 2, f"Created at takes {stops} tab stops"
    console.assert_clean()
