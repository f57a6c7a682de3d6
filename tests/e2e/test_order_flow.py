"""The order page in a real browser: what an operator types is what JustClick receives."""

from __future__ import annotations

import re
from contextlib import suppress
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.support.desk import OPERATOR
from webapp.sandbox.standin import SEED_GOODS
from webapp.web.services import services_of

GOODS = {good["good_name"]: good for good in SEED_GOODS}
WEBINAR = GOODS["webinar-funnels"]  # "Интенсив «Вебинарные воронки»"
MENTOR = GOODS["mentor-session"]


# --- helpers ------------------------------------------------------------------------------------


def group(page: Page, name: str):
    """A fieldset of the order form, by its legend."""
    return page.get_by_role("group", name=name, exact=True)


SECTIONS = {"Shipping address": "shipping", "Billing address": "billing", "Order details": "details",
            "Attribution": "attribution"}


def section(page: Page, name: str):
    """A folded section of the order form (opened first if closed), as the group its fields are in."""
    fold = page.locator(f"#section-{SECTIONS[name]}")
    if fold.get_attribute("open") is None:
        fold.locator("summary").click()
    return group(page, name)


# A product line's select: "Product", or "Product * (required)" on the first line; not "Products".
PRODUCT_LABEL = re.compile(r"^Product\b(?!s)")


def email_input(page: Page):
    return group(page, "Customer").get_by_label("Email")


def product_select(page: Page, index: int = 0):
    return page.get_by_label(PRODUCT_LABEL).nth(index)


def price_input(page: Page, index: int = 0):
    return page.get_by_label("Price override").nth(index)


def create_button(page: Page):
    return page.get_by_role("button", name="Create order")


def created_heading(page: Page, where: str = "JustClick"):
    return page.get_by_role("heading", name=f"✓ Order created in {where}")


def picker_option(page: Page, good: dict):
    results = page.get_by_role("listbox", name="Matching products")
    return results.get_by_role("option", name=re.compile(re.escape(good["good_title"])))


def summary_panel(page: Page):
    return page.get_by_role("complementary", name="Order summary and recent orders")


def fill_minimal_order(page: Page, email: str, good_name: str = "digital"):
    email_input(page).fill(email)
    product_select(page).select_option(good_name)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


# --- the whole form ---------------------------------------------------------------------------


def test_a_full_order_reaches_justclick_exactly_as_typed(make_desk, page, console, screenshot):
    page.set_viewport_size({"width": 1440, "height": 900})
    live_desk = make_desk(DEFAULT_PHONE_REGION="RU")
    live_desk.open(page)

    customer = group(page, "Customer")
    email_input(page).fill("ivan.petrov@example.com")
    customer.get_by_label("First name").fill("Иван")
    customer.get_by_label("Last name").fill("Петров")
    customer.get_by_label("Phone", exact=True).fill("8 (912) 345-67-89")  # read in DEFAULT_PHONE_REGION
    # The number to be sent shows beside the field as it is typed, with the country it was read in.
    reading = customer.locator("#customer_phone-reading")
    expect(reading).to_have_text("Sent as +79123456789 (Russian Federation).")

    product_select(page).select_option("sales-in-messengers")
    price_input(page).fill("12 000,50")
    page.get_by_role("button", name="Add product line").click()
    expect(product_select(page, 1)).to_be_visible()
    expect(price_input(page, 0)).to_have_value("12 000,50")  # the re-rendered lines keep what was typed
    product_select(page, 1).select_option("webinar-funnels")

    shipping = section(page, "Shipping address")
    shipping.get_by_label("Address", exact=True).fill("ул. Ленина, д. 1")
    shipping.get_by_label("City").fill("Москва")
    shipping.get_by_label("Postcode").fill("101000")
    shipping.get_by_label("Country").select_option("RU")
    section(page, "Billing address").get_by_label("Same as shipping").check()

    page.get_by_label("Status").select_option(label="Paid")
    page.get_by_label("Coupon").select_option(label="welcome10")
    page.get_by_label("Sales manager").select_option(label="Priya Patel")  # not the operator's own
    order = section(page, "Order details")
    order.get_by_label("Confirmed").select_option(label="Yes")
    order.get_by_label("Created at").fill("2025-01-15T10:30")

    attribution = section(page, "Attribution")
    attribution.get_by_label("Affiliates").fill("partner-one, partner2")
    attribution.get_by_label("utm_source").fill("newsletter")
    screenshot(page, "order-filled-1440")

    create_button(page).click()

    # Paid without a paid date is sent only once the operator says it is meant.
    doubt = page.get_by_role("alert").filter(has_text="Check before sending")
    expect(doubt).to_be_focused()
    assert live_desk.book.all() == []
    doubt.get_by_role("button", name="Send as it is").click()

    expect(created_heading(page)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/attempts/\w+$"))
    screenshot(page, "success-1440")
    orders = live_desk.book.all()
    assert len(orders) == 1
    assert orders[0]["params"] == {
        "customer_email": "ivan.petrov@example.com",
        "customer_first_name": "Иван",
        "customer_last_name": "Петров",
        "customer_phone": "+79123456789",
        "customer_shipping": "ул. Ленина, д. 1",
        "customer_shipping_city": "Москва",
        "customer_shipping_zip": "101000",
        "customer_shipping_country_code": "RU",
        "customer_billing_address_1": "ул. Ленина, д. 1",
        "customer_billing_city": "Москва",
        "customer_billing_zip": "101000",
        "customer_billing_country_code": "RU",
        "order_status": "Paid",
        "order_confirmed": "Yes",
        "order_created_at": "2025-01-15 10:30:00",
        "coupon": "586",  # the coupon's id, not its code
        "order_sales_manager": "71259",
        "affiliates": "partner-one,partner2",
        "utm_source": "newsletter",
        "product_names": "sales-in-messengers,webinar-funnels",
        "product_prices": "12000.50",
    }
    console.assert_clean(expected_statuses=(409,))


def test_me_makes_the_operator_the_sales_manager_in_one_click(live_desk, page, console):
    live_desk.open(page)
    manager = page.get_by_label("Sales manager")
    expect(manager).to_have_value("")  # nobody by default: the field reassigns the customer
    email_input(page).fill("me@example.com")
    page.get_by_role("button", name="Me: choose myself as manager").click()
    expect(manager).to_have_value(str(OPERATOR["manager_id"]))
    expect(manager).to_be_focused()
    expect(email_input(page)).to_have_value("me@example.com")
    assert live_desk.book.all() == []
    console.assert_clean()


# --- what stops an order, and what JustClick says -------------------------------------------


def test_errors_are_summarised_focused_and_shown_beside_their_fields(live_desk, page, console, screenshot):
    live_desk.open(page)
    customer = group(page, "Customer")
    email = email_input(page)
    email.fill("ivan@@example")
    customer.get_by_label("First name").fill("Мария")

    create_button(page).click()

    summary = page.get_by_role("alert").filter(has_text="Nothing was sent to JustClick")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text([
        "Email: This is not a valid email address.",
        "Product: Add at least one product.",
    ])
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("This is not a valid email address"))
    expect(group(page, "Products")).to_have_accessible_description(re.compile("Add at least one product"))
    expect(email).to_have_value("ivan@@example")
    expect(customer.get_by_label("First name")).to_have_value("Мария")

    summary.get_by_role("link", name=re.compile("^Email")).click()
    expect(email).to_be_focused()
    assert live_desk.book.all() == []
    console.assert_clean(expected_statuses=[422])
    page.set_viewport_size({"width": 375, "height": 812})
    screenshot(page, "errors-375")
    assert no_horizontal_scroll(page), "the order page with errors scrolls sideways at 375 px"


@pytest.mark.parametrize("live_desk", ["stand-in", "sandbox"], indirect=True)
def test_a_justclick_rejection_shows_its_code_and_text_and_keeps_the_input(live_desk, page, console,
                                                                          screenshot):
    live_desk.open(page)
    fill_minimal_order(page, "error-602@sandbox.test")
    group(page, "Customer").get_by_label("Last name").fill("Петров")

    create_button(page).click()

    outcome = page.get_by_role("alert").filter(has_text="JustClick refused the order")
    expect(outcome).to_be_visible()
    expect(outcome).to_contain_text("Error 602: Order could not be created")
    expect(email_input(page)).to_have_value("error-602@sandbox.test")
    expect(group(page, "Customer").get_by_label("Last name")).to_have_value("Петров")
    expect(product_select(page)).to_have_value("digital")
    screenshot(page, f"rejected-{'sandbox' if live_desk.sandbox else 'stand-in'}-1280")
    assert live_desk.book.all() == []
    console.assert_clean(expected_statuses=[422])


@pytest.mark.gives_up_soon
def test_a_timeout_warns_that_the_order_may_or_may_not_exist(live_desk, page, console):
    live_desk.open(page)
    fill_minimal_order(page, "slow@sandbox.test")
    held = []  # the invoice region's look, held until the warning has been read
    page.route("**/attempts/*/invoice*", lambda route: held.append(route))

    create_button(page).click()

    outcome = page.get_by_role("alert").filter(has_text="Check in JustClick before sending again")
    expect(outcome).to_be_visible()
    expect(outcome).to_contain_text(re.compile(r"did not answer within 1 s"))
    expect(outcome).to_contain_text("slow@sandbox.test")
    expect(email_input(page)).to_have_value("slow@sandbox.test")
    assert len(live_desk.book.all()) == 1  # the stand-in made the order; the desk could not know
    # ... until it looks, by itself: the order is there, so the page says only that, with no live form.
    for route in held:
        route.continue_()
    page.unroute("**/attempts/*/invoice*")
    expect(page.get_by_role("heading", name="✓ Created — found in JustClick")).to_be_visible()
    expect(page.locator("#invoice")).to_contain_text(f"Invoice {live_desk.book.all()[0]['bill_id']}")
    expect(page.locator("#order-form")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/attempts/[0-9a-f]{12}$"))
    expect(page.get_by_text("Check in JustClick before sending again")).to_have_count(0)
    console.assert_clean(expected_statuses=[502])


@pytest.mark.parametrize("email", ["error-602@sandbox.test", "down@sandbox.test"])
def test_the_outcome_of_a_failed_send_takes_focus(live_desk, page, email):
    """A screen-reader or keyboard user lands on what happened, as with the error summary."""
    live_desk.open(page)
    fill_minimal_order(page, email)
    create_button(page).click()
    outcome = page.get_by_role("alert").filter(has=page.get_by_role("heading"))
    expect(outcome).to_be_visible()
    expect(outcome).to_be_focused()


# --- the product picker ----------------------------------------------------------------------


def test_the_picker_adds_lines_by_keyboard_and_the_summary_follows(live_desk, page, console, screenshot):
    live_desk.open(page)
    search = page.get_by_role("combobox", name="Find a product to add")
    summary = summary_panel(page)
    expect(summary.get_by_text("No products yet.")).to_be_visible()

    search.press_sequentially("вебинар")
    option = picker_option(page, WEBINAR)
    expect(option).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    screenshot(page, "picker-1280")
    search.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    search.press("Enter")

    expect(product_select(page)).to_have_value(WEBINAR["good_name"])
    expect(search).to_be_focused()  # ready for the next product: adding several never loses the place
    expect(search).to_have_value("")
    lines = summary.get_by_role("table", name="Order lines")
    expect(lines).to_contain_text(WEBINAR["good_title"])
    expect(summary.locator("#wire-names")).to_have_text(WEBINAR["good_name"])

    # The only match needs no arrow: Enter takes it.
    search.press_sequentially("наставник")
    expect(picker_option(page, MENTOR)).to_be_visible()
    search.press("Enter")
    expect(product_select(page, 1)).to_have_value(MENTOR["good_name"])
    expect(summary.locator("#wire-names")).to_have_text(f"{WEBINAR['good_name']},{MENTOR['good_name']}")
    expect(lines).to_contain_text(MENTOR["good_title"])

    page.get_by_role("button", name=f"Remove line 1 ({WEBINAR['good_title']})").click()
    expect(product_select(page)).to_have_value(MENTOR["good_name"])
    expect(page.get_by_label(PRODUCT_LABEL)).to_have_count(1)
    expect(summary.locator("#wire-names")).to_have_text(MENTOR["good_name"])
    expect(lines).not_to_contain_text(WEBINAR["good_title"])
    assert live_desk.book.all() == []
    console.assert_clean()


def test_a_picked_product_swaps_only_the_product_lines_and_refreshes_the_summary(live_desk, page, console):
    """The rest of the form stays as it is in the browser: the same elements, not a re-render."""
    live_desk.open(page)
    email_input(page).fill("partial@example.com")
    page.evaluate("document.getElementById('customer_email').dataset.kept = 'the same element'")
    search = page.get_by_role("combobox", name="Find a product to add")
    search.press_sequentially("вебинар")
    expect(picker_option(page, WEBINAR)).to_be_visible()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == live_desk.url) as added:
        search.press("Enter")
    assert added.value.headers["hx-retarget"] == "#product-lines-region"
    assert 'id="order-form"' not in added.value.text() and 'id="product-search"' not in added.value.text()

    expect(product_select(page)).to_have_value(WEBINAR["good_name"])
    expect(search).to_be_focused()
    expect(summary_panel(page).locator("#wire-names")).to_have_text(WEBINAR["good_name"])
    expect(page.locator("#summary-status")).to_have_text(re.compile(r"^Total: "))  # announced
    assert page.evaluate("document.getElementById('customer_email').dataset.kept") == "the same element"
    expect(email_input(page)).to_have_value("partial@example.com")
    assert live_desk.book.all() == []
    console.assert_clean()


def test_typing_on_as_soon_as_the_picker_has_focus_searches_again(live_desk, page, console):
    """The picker takes focus once htmx listens on the new one: keys typed at once are never lost."""
    live_desk.open(page)
    page.evaluate("htmx.config.defaultSettleDelay = 500")  # widens the gap between swap and settle
    search = page.get_by_role("combobox", name="Find a product to add")
    search.press_sequentially("вебинар")
    expect(picker_option(page, WEBINAR)).to_be_visible()
    search.press("Enter")
    expect(product_select(page)).to_have_value(WEBINAR["good_name"])
    expect(search).to_be_focused()
    page.keyboard.type("наставник")
    expect(picker_option(page, MENTOR)).to_be_visible()
    console.assert_clean()


def test_a_superseded_summary_refresh_logs_no_error(live_desk, page, console):
    """An operator typing on while the summary loads: the newer refresh wins, and nothing is an error."""
    live_desk.open(page)
    expect(summary_panel(page).get_by_text("No products yet.")).to_be_visible()
    # Counts the summary's refreshes as htmx decides to make them, before hx-sync drops, queues or aborts.
    page.evaluate("""() => { window.summaryRefreshes = 0; document.addEventListener("htmx:confirm",
        (event) => { if (event.target.id === "summary") window.summaryRefreshes += 1; }); }""")
    held = []
    page.route("**/summary", lambda route: held.append(route))  # held in flight until released
    with page.expect_request("**/summary"):
        product_select(page).select_option("digital")
    group(page, "Customer").get_by_label("Last name").fill("Петров")
    page.wait_for_function("() => window.summaryRefreshes >= 2")
    page.unroute("**/summary")
    for route in held:
        with suppress(PlaywrightError):  # the browser may have given up on a superseded request
            route.continue_()
    expect(summary_panel(page).locator("#wire-names")).to_have_text("digital")
    assert [e for e in console.errors if "htmx:" in e] == []


# --- the keyboard ----------------------------------------------------------------------------


def test_enter_in_a_field_never_sends_and_ctrl_enter_does(live_desk, page, console):
    live_desk.open(page)
    fill_minimal_order(page, "keys@example.com")
    first_name = group(page, "Customer").get_by_label("First name")
    first_name.fill("Anna")
    first_name.press("Enter")

    # Had Enter sent an order, it would lack the tag typed next, or there would be two orders.
    tag = section(page, "Order details").get_by_label("Order tag")
    tag.fill("sent-by-ctrl-enter")
    tag.press("Control+Enter")

    expect(created_heading(page)).to_be_visible()
    orders = live_desk.book.all()
    assert len(orders) == 1
    assert orders[0]["params"]["order_tag"] == "sent-by-ctrl-enter"
    assert orders[0]["params"]["customer_first_name"] == "Anna"
    console.assert_clean()


# --- without JavaScript ------------------------------------------------------------------------


def test_the_form_works_without_javascript(live_desk, browser, watch_console, screenshot):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = watch_console(page)
    try:
        live_desk.open(page)
        fill_minimal_order(page, "nojs@example.com", "sales-in-messengers")
        price_input(page).fill("9900")
        group(page, "Customer").get_by_label("First name").fill("Ольга")
        group(page, "Customer").get_by_label("Phone", exact=True).fill("+7 912 345 67 89")

        page.get_by_role("button", name="Add product line").click()
        expect(page.locator("#customer_phone-reading")).to_contain_text("+79123456789")  # read on re-render
        expect(product_select(page, 1)).to_be_visible()
        expect(product_select(page, 0)).to_have_value("sales-in-messengers")
        expect(price_input(page, 0)).to_have_value("9900")
        expect(email_input(page)).to_have_value("nojs@example.com")
        expect(group(page, "Customer").get_by_label("First name")).to_have_value("Ольга")
        product_select(page, 1).select_option("digital")
        page.get_by_role("button", name="Me: choose myself as manager").click()
        manager = page.get_by_label("Sales manager")
        expect(manager).to_have_value(str(OPERATOR["manager_id"]))

        # Enter in a text field re-renders the form (its default button), it sends nothing.
        with page.expect_navigation():
            group(page, "Customer").get_by_label("First name").press("Enter")
        expect(product_select(page, 1)).to_have_value("digital")
        assert live_desk.book.all() == []

        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            create_button(page).click()
        assert posted.value.status == 303
        expect(created_heading(page)).to_be_visible()
        expect(page).to_have_url(re.compile(r"/attempts/\w+$"))
        screenshot(page, "success-nojs-1280")
        orders = live_desk.book.all()
        assert len(orders) == 1
        params = orders[0]["params"]
        assert params["product_names"] == "sales-in-messengers,digital"
        assert params["product_prices"] == "9900"
        assert params["customer_first_name"] == "Ольга"
        assert params["order_sales_manager"] == str(OPERATOR["manager_id"])
        console.assert_clean()
    finally:
        context.close()


# --- sandbox mode --------------------------------------------------------------------------------


def test_sandbox_mode_says_so_and_lists_the_orders_it_took(sandbox_desk, page, console):
    sandbox_desk.open(page)
    expect(page.get_by_role("note")).to_contain_text("orders go to the built-in sandbox, not to JustClick")
    fill_minimal_order(page, "sandbox-buyer@example.com")

    create_button(page).click()

    expect(created_heading(page, "the sandbox")).to_be_visible()
    assert [o["params"]["customer_email"] for o in services_of(sandbox_desk.app).sandbox_book.all()] == [
        "sandbox-buyer@example.com"]
    page.get_by_role("link", name="See sandbox orders").click()
    expect(page.get_by_role("heading", name="Sandbox orders")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="sandbox-buyer@example.com")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("digital")
    console.assert_clean()


# --- how it looks ---------------------------------------------------------------------------------


def test_the_order_page_fits_a_phone_and_a_wide_screen(live_desk, page, console, screenshot):
    page.set_viewport_size({"width": 375, "height": 812})
    live_desk.open(page)
    expect(summary_panel(page).get_by_text("No products yet.")).to_be_visible()
    screenshot(page, "order-375")
    fits_a_phone = no_horizontal_scroll(page)

    page.set_viewport_size({"width": 1440, "height": 900})
    fill_minimal_order(page, "wide@example.com", "sales-in-messengers")
    expect(summary_panel(page).locator("#wire-names")).to_have_text("sales-in-messengers")
    screenshot(page, "order-1440")
    console.assert_clean()
    assert fits_a_phone, "the order page scrolls sideways at 375 px"


def test_the_success_page_fits_a_phone(live_desk, page, console, screenshot):
    page.set_viewport_size({"width": 375, "height": 812})
    live_desk.open(page)
    fill_minimal_order(page, "a.very.long.customer.address@example-company.com", "online-school-starter")
    create_button(page).click()
    expect(created_heading(page)).to_be_visible()
    screenshot(page, "success-375")
    assert no_horizontal_scroll(page), "the success page scrolls sideways at 375 px"
    console.assert_clean()


def test_every_page_finds_its_favicon(live_desk, page):
    """Chromium fetches the page's icon (else /favicon.ico) by itself; a 404 is an error in every console."""
    for path in ("", "history"):
        live_desk.open(page, path)
        declared = page.locator("link[rel~='icon']")
        href = declared.first.get_attribute("href") if declared.count() else "/favicon.ico"
        icon = page.request.get(urljoin(page.url, href))
        assert icon.status == 200, f"{href} answers {icon.status} on /{path}"
