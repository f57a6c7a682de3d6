"""Nothing the operator types is lost while a part of the page comes back, and the summary always shows
the form's final state — on a busy machine too.

Each test keeps both cores busy with two spinning processes while it types at machine speed: the page
must be right by design (what is swapped, what is kept, which answer may land), not by timing. Each
case is tried 20 times in a row."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_russian import cut_off, open_in_russian, overflows, ru_desk  # noqa: F401 (fixture)
from webapp.i18n.formats import money
from webapp.sandbox.standin import SEED_GOODS

TRIES = 20
DIGITAL_GOODS = [good for good in SEED_GOODS if good["good_type"] == "digital"]
PHYSICAL = next(good for good in SEED_GOODS if good["good_type"] == "physical")


@pytest.fixture
def busy_cpu():
    """Both cores kept busy for the length of the test, as on a loaded CI machine."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


def search_box(page: Page):
    return page.get_by_role("combobox", name="Find a product to add")


def line_products(page: Page) -> list[str]:
    selects = "#product-lines select[name$='-good_name']"
    return page.eval_on_selector_all(selects, "els => els.map(e => e.value)")


def fresh_order_page(desk, page: Page) -> None:
    desk.open(page)
    expect(search_box(page)).to_be_visible()
    search_box(page).focus()


@pytest.mark.parametrize("moment", ["while the line is on its way", "the instant the line appears"])
def test_a_product_id_typed_as_a_line_is_added_is_never_lost(live_desk, page, console, busy_cpu, moment):
    """Enter adds the first match; the next product's id, typed at once (while that line is on its way,
    or the moment it is in the page), arrives whole in the picker and finds its product."""
    page.on("dialog", lambda dialog: dialog.accept())
    for attempt in range(TRIES):
        first = DIGITAL_GOODS[attempt % len(DIGITAL_GOODS)]
        second = DIGITAL_GOODS[(attempt + 1) % len(DIGITAL_GOODS)]
        fresh_order_page(live_desk, page)
        page.keyboard.type(str(first["id"]))
        page.keyboard.press("Enter")  # the server adds the first match for the whole id
        if moment == "the instant the line appears":
            page.wait_for_function("name => document.querySelector('#products-0-good_name')?.value === name",
                                   arg=first["good_name"], polling="raf")
        page.keyboard.type(str(second["id"]))
        expect(search_box(page), f"try {attempt + 1}").to_have_value(str(second["id"]))
        page.keyboard.press("Enter")
        expect(page.locator("#product-lines select[name$='-good_name']")).to_have_count(2)
        assert line_products(page) == [first["good_name"], second["good_name"]], f"try {attempt + 1}"
        expect(search_box(page)).to_have_value("")
        expect(search_box(page)).to_be_focused()
    assert live_desk.book.all() == []
    console.assert_clean()


# Fills the price of the first line in the same task as that line (with `name`) enters the page, as a
# paste would the instant it is there, and says so with the `input` event an operator's typing makes.
FILL_AS_IT_APPEARS = """([name, price]) => { window.priceFilled = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
        const select = document.querySelector("#products-0-good_name");
        const input = document.querySelector("#products-0-price");
        if (!select || !input || select.value !== name || input.dataset.filled) return;
        input.value = price;
        input.dataset.filled = "yes";
        input.dispatchEvent(new Event("input", { bubbles: true }));
        observer.disconnect();
        resolve();
    });
    observer.observe(document.body, { childList: true, subtree: true });
}); }"""


def test_a_price_filled_as_its_line_appears_reaches_the_total(live_desk, page, console, busy_cpu):
    page.on("dialog", lambda dialog: dialog.accept())
    with live_desk.app.test_request_context():
        totals = {n: money(n) for n in range(1000, 1000 + TRIES)}
    for attempt in range(TRIES):
        good = DIGITAL_GOODS[attempt % len(DIGITAL_GOODS)]
        price = 1000 + attempt
        fresh_order_page(live_desk, page)
        page.evaluate(FILL_AS_IT_APPEARS, [good["good_name"], str(price)])
        page.keyboard.type(str(good["id"]))
        page.keyboard.press("Enter")
        page.evaluate("() => window.priceFilled")  # the line came, and its price was filled at once
        expect(page.locator("#summary-total"), f"try {attempt + 1}").to_have_text(totals[price])
        expect(page.locator("#wire-prices")).to_have_text(str(price))
        expect(page.locator("#products-0-price")).to_have_value(str(price))
    console.assert_clean()


def test_a_price_typed_while_a_line_is_added_is_kept_and_counted(live_desk, page, console):
    """A line's price typed while another product is on its way is neither lost nor left out of the total."""
    first, second = DIGITAL_GOODS[0], DIGITAL_GOODS[1]
    fresh_order_page(live_desk, page)
    page.keyboard.type(str(first["id"]))
    page.keyboard.press("Enter")
    expect(page.locator("#products-0-good_name")).to_have_value(first["good_name"])
    held = []
    page.route(live_desk.url, lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    page.keyboard.type(str(second["id"]))
    with page.expect_request(lambda request: request.method == "POST" and request.url == live_desk.url):
        page.keyboard.press("Enter")
    for _ in range(500):  # the route handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(10)
    page.locator("#products-0-price").fill("777")  # while the second line is on its way
    held[0].continue_()
    page.unroute(live_desk.url)
    expect(page.locator("#products-1-good_name")).to_have_value(second["good_name"])
    expect(page.locator("#products-0-price")).to_have_value("777")
    with live_desk.app.test_request_context():
        total = money(777 + int(float(second["good_sum"])))
    expect(page.locator("#summary-total")).to_have_text(total)
    console.assert_clean()


@pytest.fixture
def browser_with_scrollbars(browser_type, browser_type_launch_args):
    """Chromium drawing classic scrollbars, as on a desktop: a headless one hides them by default."""
    browser = browser_type.launch(**browser_type_launch_args, ignore_default_args=["--hide-scrollbars"])
    yield browser
    browser.close()


@pytest.mark.parametrize("width", [360, 375])
def test_russian_folded_sections_fit_a_phone_with_a_scrollbar(ru_desk, browser_with_scrollbars,  # noqa: F811
                                                               screenshot, width):
    """The folded sections' Russian summaries wrap: at 360 and 375 px, with the page taller than the
    screen (so a scrollbar takes its share of the width), nothing is cut off or scrolls sideways."""
    context = browser_with_scrollbars.new_context(viewport={"width": width, "height": 640}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    open_in_russian(ru_desk, page)
    page.locator("#products-0-good_name").select_option(PHYSICAL["good_name"])  # shipping is needed
    expect(page.locator("#section-shipping")).to_have_attribute("data-needed", "")
    page.evaluate("document.querySelectorAll('details.fold').forEach((d) => { d.open = false; })")
    page.evaluate("document.body.style.minHeight = '300vh'")  # taller than the screen, whatever it holds
    assert page.evaluate("window.innerWidth > document.documentElement.clientWidth"), "no scrollbar"
    screenshot(page, f"ru-folds-{width}")
    problems = cut_off(page) + (["the page scrolls sideways"] if overflows(page) else [])
    context.close()
    assert not problems, "\n".join(problems)
