"""The session history in the browser: the panel follows each order without a reload, and an
attempt duplicated into the form becomes a second order after an explicit confirmation."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_order_flow import PRODUCT_LABEL


def test_submit_duplicate_and_submit_again(page, live_desk, console):
    live_desk.open(page)
    page.get_by_label("Email").fill("twice@example.com")
    page.get_by_label("First name").fill("Дарья")
    page.get_by_label(PRODUCT_LABEL).first.select_option("digital")
    page.get_by_role("button", name="Create order").click()
    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()

    panel = page.locator("#history-panel")
    expect(panel.get_by_role("listitem")).to_have_count(1)  # updated without a reload
    expect(panel).to_contain_text("twice@example.com")

    page.get_by_role("button", name="Duplicate into form").click()
    expect(page.get_by_label("Email")).to_have_value("twice@example.com")
    expect(page.get_by_label("First name")).to_have_value("Дарья")
    expect(page.get_by_label(PRODUCT_LABEL).first).to_have_value("digital")

    # the same customer and products minutes later: the desk asks before a second invoice
    page.get_by_role("button", name="Create order").click()
    expect(page.get_by_role("alert")).to_contain_text("This looks like an order you just created")
    assert len(live_desk.book.all()) == 1
    page.get_by_role("button", name="Create anyway").click()
    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()
    expect(panel.get_by_role("listitem")).to_have_count(2)
    assert len(live_desk.book.all()) == 2

    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("row")).to_have_count(3)  # a header and two attempts
    console.assert_clean(expected_statuses=[409])


@pytest.mark.gives_up_soon
def test_the_submit_button_is_disabled_while_the_order_is_in_flight(page, live_desk):
    live_desk.open(page)
    # Its invoice region's look is held: once it finds the order, the form gives way to the result.
    page.route("**/attempts/*/invoice*", lambda route: None)
    page.get_by_label("Email").fill("slow@sandbox.test")
    page.get_by_label(PRODUCT_LABEL).first.select_option("digital")
    button = page.locator("#submit-order")
    button.click()
    expect(button).to_be_disabled()
    expect(button).to_contain_text("Sending", use_inner_text=True)
    expect(page.get_by_role("alert")).to_contain_text("did not answer within 1 s")
    expect(button).to_be_enabled()


def test_the_button_says_sending_until_the_order_itself_is_answered(page, live_desk):
    """A summary refresh that ends while the order is out must not end the order's progress."""
    live_desk.open(page)
    held = {}
    page.route("**/summary", lambda route: held.setdefault("summary", route))
    page.route(live_desk.url, lambda route: held.setdefault("order", route)
               if route.request.method == "POST" else route.continue_())
    page.evaluate("""() => document.addEventListener("htmx:afterRequest", (event) => {
        if (event.detail.elt.id === "summary") window.summaryAnswered = true; })""")
    page.get_by_label("Email").fill("held@example.com")
    with page.expect_request("**/summary"):
        page.get_by_label(PRODUCT_LABEL).first.select_option("digital")
    button = page.locator("#submit-order")
    with page.expect_request(lambda request: request.method == "POST" and request.url == live_desk.url):
        button.click()
    expect(button).to_have_attribute("aria-busy", "true")

    held["summary"].continue_()
    page.wait_for_function("() => window.summaryAnswered === true")
    expect(button).to_have_attribute("aria-busy", "true")  # still sending
    expect(button).to_contain_text("Sending", use_inner_text=True)

    held["order"].continue_()
    expect(page.get_by_role("status").filter(has_text="Order created")).to_be_visible()
    assert len(live_desk.book.all()) == 1


def test_refreshing_the_lists_shows_its_own_progress_not_sending(page, live_desk):
    live_desk.open(page)
    page.route("**/", lambda route: (page.wait_for_timeout(500), route.continue_())[1]
               if route.request.method == "POST" else route.continue_())
    refresh = page.get_by_role("button", name="Refresh lists")
    refresh.click()
    expect(refresh).to_have_attribute("aria-busy", "true")
    expect(page.locator("#submit-order")).not_to_contain_text("Sending", use_inner_text=True)
    expect(page.get_by_role("button", name="Refresh lists")).not_to_have_attribute("aria-busy", "true")
