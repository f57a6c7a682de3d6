"""The desk on a phone's width, and the pages' screenshots at 375 and 1440 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from webapp.sandbox.standin import SEED_GOODS

RUSSIAN = max((g for g in SEED_GOODS if re.search("[а-я]", g["good_title"]) and g["good_type"] == "digital"),
              key=lambda g: len(g["good_title"]))


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_touch_screen_gets_no_ctrl_enter_hint(live_desk, phone):
    live_desk.open(phone)
    expect(phone.locator("#submit-order")).to_be_visible()
    expect(phone.get_by_text("Ctrl+Enter")).to_be_hidden()


#: The words of the elements `selector` finds that a line break cuts in two ("Starte|r").
SPLIT_WORDS = """(selector) => { const split = [];
  for (const cell of document.querySelectorAll(selector)) {
    const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      for (const word of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index); range.setEnd(node, word.index + word[0].length);
        if (new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1) split.push(word[0]);
      }
    }
  }
  return split; }"""


@pytest.mark.parametrize("width", [360, 375])
def test_long_titles_keep_their_words_whole_beside_a_large_price(live_desk, phone, width):
    phone.set_viewport_size({"width": width, "height": 740})
    live_desk.open(phone)
    phone.get_by_label(re.compile(r"^Product\b(?!s)")).first.select_option(RUSSIAN["good_name"])
    phone.get_by_label("Price override").first.fill("12 345 678,50")
    phone.get_by_label("Price override").first.press("Tab")
    expect(phone.locator("#summary-total")).to_contain_text("12,345,678.50")
    assert phone.evaluate(SPLIT_WORDS, "#summary td.title") == []
    assert fits(phone)


def test_long_russian_titles_wrap_in_the_picker_and_the_summary(live_desk, phone):
    live_desk.open(phone)
    phone.locator("#product-search").press_sequentially(RUSSIAN["good_title"].split()[0])
    option = phone.locator("#product-results .picker-option").first
    expect(option).to_be_visible()
    assert option.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "the title is cut off"
    phone.locator("#product-search").press("Enter")
    cell = phone.locator("#summary td.title").first
    expect(cell).to_have_text(RUSSIAN["good_title"])
    assert cell.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    assert fits(phone)


def test_the_sandbox_page_fits_a_phone(sandbox_desk, phone):
    sandbox_desk.open(phone)
    phone.get_by_label("Email").fill("phone@example.com")
    phone.get_by_label(re.compile(r"^Product\b(?!s)")).first.select_option(RUSSIAN["good_name"])
    phone.get_by_role("button", name="Create order").click()
    expect(phone.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()
    # The result is above the summary on a phone: nothing says "beside".
    expect(phone.locator("#summary")).not_to_contain_text("beside")
    sandbox_desk.open(phone, "sandbox")
    expect(phone.get_by_role("heading", name="Sandbox orders")).to_be_visible()
    assert fits(phone), "the sandbox page scrolls sideways at 375 px"


@pytest.mark.parametrize("width", [375, 1440])
def test_screenshots_of_the_empty_form_a_filled_form_and_the_result(live_desk, page, screenshot, width,
                                                                   console):
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 740})
    live_desk.open(page)
    screenshot(page, f"i14-empty-{width}")
    page.get_by_label("Email").fill("ivan.petrov@example.com")
    page.get_by_label("Phone", exact=True).fill("+7 916 123-45-67")
    page.get_by_label("First name").fill("Иван")
    page.get_by_label("Last name").fill("Петров")
    search = page.locator("#product-search")
    options = page.locator("#product-results .picker-option")
    search.press_sequentially("вебинар")
    expect(options).to_have_count(1)
    search.press("Enter")
    expect(page.locator("#products-0-good_name")).to_have_value("webinar-funnels")
    search.press_sequentially("planner")
    expect(options).to_have_count(1)
    search.press("Enter")
    expect(page.locator("#section-shipping")).to_have_attribute("open", "")
    page.get_by_label("Price override").first.fill("7 000")
    page.locator("#customer_shipping").fill("ул. Тверская, д. 7, кв. 12")
    page.locator("#customer_shipping_city").fill("Москва")
    page.get_by_label("Coupon").select_option(label="welcome10")
    expect(page.locator("#bar-count")).to_have_text("2 products")
    page.locator("#paste_text").evaluate("(el) => el.closest('details').open = true")
    screenshot(page, f"i14-filled-{width}")
    help_box = page.locator("#paste_text-help").bounding_box()
    box = page.locator("#paste_text").bounding_box()
    assert help_box["y"] >= box["y"] + box["height"] - 1, "the paste box's help overlaps the box"
    page.locator("#submit-order").click()
    expect(page.get_by_role("heading", name=re.compile("Order created"))).to_be_visible()
    screenshot(page, f"i14-result-{width}")
    console.assert_clean()
