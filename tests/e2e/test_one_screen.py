"""The common order in one screen: folded sections, Create order always in reach, the busy state."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from webapp.sandbox.standin import SEED_GOODS

GOODS = {good["good_name"]: good for good in SEED_GOODS}
BOOK = next(g for g in SEED_GOODS if g["good_type"] == "physical")
PHONE = {"width": 375, "height": 740}
WIDE = {"width": 1440, "height": 900}


def section(page: Page, name: str):
    return page.locator(f"#section-{name}")


def create_button(page: Page):
    return page.get_by_role("button", name="Create order")


def in_viewport(page: Page, selector: str) -> bool:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight
            && r.left >= 0 && r.right <= window.innerWidth; }""", selector)


def test_the_empty_form_fits_one_wide_screen_and_the_bar_stays_on_a_phone(live_desk, page, console,
                                                                           screenshot):
    page.set_viewport_size(WIDE)
    live_desk.open(page)
    screenshot(page, "one-screen-empty-1440")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= WIDE["height"], f"the empty form is {height} px tall"
    for name in ("shipping", "billing", "details", "attribution"):
        expect(section(page, name)).not_to_have_attribute("open", re.compile(".*"))
    expect(section(page, "details").locator("summary")).to_have_text(
        re.compile(r"Order details\s*— nothing set"))
    assert in_viewport(page, "#submit-order")
    # The side column, however long its list grows, ends above the send card in its corner.
    lowest, card = page.evaluate("""() => { const side = document.querySelector('.desk-side');
        return [side.getBoundingClientRect().top + parseFloat(getComputedStyle(side).maxHeight),
                document.getElementById('send-bar').getBoundingClientRect().top]; }""")
    assert lowest <= card, f"the side column may reach {lowest} px, under the send card at {card} px"
    page.get_by_role("button", name="Русский").click()  # Russian words are longer: it still fits
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= WIDE["height"], f"the empty form in Russian is {height} px tall"
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "one-screen-empty-375")
    for y in (0, 600, 1200, 100_000):
        page.evaluate(f"window.scrollTo(0, {y})")
        assert in_viewport(page, "#submit-order"), f"Create order is out of view at scroll {y}"
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    console.assert_clean()


def test_a_closed_section_counts_what_it_holds(live_desk, page, console):
    live_desk.open(page)
    details = section(page, "details")
    details.locator("summary").click()
    details.get_by_label("Payment method").fill("Stripe")
    details.get_by_label("Order tag").fill("vip")
    details.locator("summary").click()
    expect(details.locator("summary")).to_have_text(re.compile(r"Order details\s*— 2 set"))
    console.assert_clean()


def test_a_physical_product_opens_shipping_and_blocks_sending_without_address(live_desk, page, console):
    live_desk.open(page)
    page.get_by_label("Email").fill("reader@example.com")
    shipping = section(page, "shipping")
    expect(shipping).not_to_have_attribute("open", re.compile(".*"))
    page.get_by_label(re.compile(r"^Product\b(?!s)")).first.select_option(BOOK["good_name"])
    expect(shipping).to_have_attribute("open", "")
    expect(shipping.get_by_label("Address", exact=True)).to_have_attribute("required", "")
    expect(shipping.get_by_label("City")).to_have_attribute("required", "")

    create_button(page).click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#customer_shipping-error")).to_contain_text("needs an address")
    expect(page.locator("#customer_shipping_city-error")).to_contain_text("needs a city")
    assert live_desk.book.all() == []

    shipping = section(page, "shipping")
    shipping.get_by_label("Address", exact=True).fill("ул. Тверская, д. 7")
    shipping.get_by_label("City").fill("Москва")
    create_button(page).click()
    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()
    [sent] = live_desk.book.all()
    assert sent["params"]["customer_shipping_city"] == "Москва"
    console.assert_clean(expected_statuses=[422])


def test_a_closed_section_with_an_error_opens(live_desk, page, console):
    live_desk.open(page)
    page.get_by_label("Email").fill("reader@example.com")
    page.get_by_label(re.compile(r"^Product\b(?!s)")).first.select_option("digital")
    attribution = section(page, "attribution")
    attribution.locator("summary").click()
    attribution.get_by_label("Affiliates").fill("alpha,,beta")
    attribution.locator("summary").click()  # closed again, the wrong value inside
    expect(attribution).not_to_have_attribute("open", re.compile(".*"))
    create_button(page).click()
    attribution = section(page, "attribution")
    expect(attribution).to_have_attribute("open", "")
    expect(attribution.get_by_label("Affiliates")).to_have_attribute("aria-invalid", "true")
    expect(attribution.locator("summary")).to_contain_text("check the marked fields")
    assert live_desk.book.all() == []
    console.assert_clean(expected_statuses=[422])


def test_the_bar_on_a_phone_sends_the_order(live_desk, page, console, screenshot):
    page.set_viewport_size(PHONE)
    live_desk.open(page)
    page.get_by_label("Email").fill("phone@example.com")
    page.get_by_label(re.compile(r"^Product\b(?!s)")).first.select_option("webinar-funnels")
    bar = page.locator("#send-bar")
    expect(bar.locator("#bar-count")).to_have_text("1 product")
    expect(bar.locator("#bar-total")).to_have_text(re.compile(r"RUB\s7,900\.00"))
    screenshot(page, "one-screen-filled-375")
    bar.get_by_role("button", name="Create order").click()
    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()
    screenshot(page, "one-screen-result-375")
    assert len(live_desk.book.all()) == 1
    console.assert_clean()


def test_while_sending_the_form_is_read_only_and_the_top_line_counts(make_desk, page, console):
    live_desk = make_desk(slow_seconds=6.5, JUSTCLICK_TIMEOUT=9.0)
    live_desk.open(page)
    page.get_by_label("Email").fill("slow@sandbox.test")
    page.get_by_label(re.compile(r"^Product\b(?!s)")).first.select_option("digital")
    page.evaluate("window.scrollTo(0, 0)")
    create_button(page).click()
    status = page.locator("#send-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text(re.compile(r"Sending the order to JustClick… \d+ s"))
    expect(page.locator("#order-form")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#order-fields")).to_have_attribute("disabled", "")
    expect(page.get_by_label("Email")).to_be_disabled()
    assert in_viewport(page, "#send-status")
    expect(status).to_contain_text("JustClick is slow to answer; do not close this page", timeout=8_000)
    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible(timeout=8_000)
    expect(status).to_be_hidden()
    console.assert_clean()
