"""The team's Orders page in chromium: orders sent in the page listed with their invoices, found as the
operator types, a reminder and a payment link copied, the chart read without colour and without the
picture; in English and Russian, at a phone's and a wide screen's width, with axe."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import axe_violations
from tests.e2e.test_russian import Looks, open_in_russian
from tests.support.desk import desk_in
from webapp.attempts import status_refresh


def send(page: Page, email: str, first_name: str, good: str) -> None:
    """An order sent from the order page, waited for until its payment link is shown."""
    page.locator("#customer_email").fill(email)
    page.locator("#customer_first_name").fill(first_name)
    page.locator("#products-0-good_name").select_option(good)
    page.locator("#customer_email").press("Control+Enter")
    expect(page.locator("#invoice-link")).to_be_visible()
    page.goto(page.url.split("/attempts/")[0] + "/")


def test_the_orders_page_finds_reminds_and_copies(live_desk, browser, watch_console, screenshot,
                                                 monkeypatch):
    monkeypatch.setattr(status_refresh, "REFRESH_SECONDS", 1)  # the page asks every second, not every 10
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = watch_console(page)
    try:
        live_desk.open(page)
        send(page, "anna@example.com", "Анна", "digital")
        send(page, "boris@example.com", "Boris", "mentor-session")
        bills = {o["params"]["customer_email"]: o["bill_id"] for o in live_desk.book.all()}

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders", exact=True).click()
        expect(page.get_by_role("heading", name="Team orders")).to_be_visible()
        rows = page.locator("#orders-list tbody tr")
        expect(rows).to_have_count(2)
        chart = page.get_by_role("img", name=re.compile("The last 30 days.*2 orders made, 0 of them paid"))
        expect(chart).to_be_visible()

        page.get_by_label("Find").press_sequentially("анн")  # as typed, the list narrows
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("anna@example.com")
        expect(page).to_have_url(re.compile(r"/orders\?q=%D0%B0%D0%BD%D0%BD"))  # a link to this list

        rows.first.locator("details.reminder summary").click()
        reminder = page.locator("textarea[id$='-text']")
        expect(reminder).to_contain_text(f"your invoice {bills['anna@example.com']}")
        expect(reminder).to_contain_text("is waiting for payment")
        rows.first.get_by_role("button", name=re.compile("^Copy the payment link")).click()
        expect(rows.first.locator(".copy-status").first).to_have_text("Payment link copied.")
        assert f"/bill/{bills['anna@example.com']}/" in page.evaluate("navigator.clipboard.readText()")
        screenshot(page, "orders-1440")
        found = axe_violations(page)
        assert found == [], "\n".join(found)

        # Anna pays while the reminder is open: at the page's next refresh her row says Paid, and the
        # reminder is gone from it (she is not to be asked to pay again).
        live_desk.book.mark_paid(bills["anna@example.com"])
        monkeypatch.setattr(status_refresh, "STATUS_EVERY", timedelta(0))  # as if minutes had passed
        expect(rows.first.locator("td[data-label='Payment']")).to_contain_text("Paid")
        expect(rows.first.locator("details.reminder")).to_have_count(0)
        console.assert_clean()
    finally:
        context.close()


WORDS = {"ru": ("Заказы команды", "Последние 30 дней.*1 заказ, оплачено 0", "ожидает оплаты"),
         "en": ("Team orders", "The last 30 days.*1 order made, 0 of them paid", "is waiting for payment")}


@pytest.mark.parametrize("language", WORDS)
def test_the_orders_page_fits_a_phone_and_a_wide_screen_and_passes_axe(make_desk, browser, screenshot,
                                                                       language):
    heading, chart, reminder = WORDS[language]
    desk = make_desk(**desk_in(language))
    for width in (375, 1440):
        look = Looks(browser, screenshot, width, locale="ru-RU" if language == "ru" else "en-US")
        page = look.page
        open_in_russian(desk, page) if language == "ru" else desk.open(page)
        if width == 375:
            send(page, "vera@example.com", "Вера", "digital")
        page.goto(desk.url + "orders")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        expect(page.get_by_role("img", name=re.compile(chart))).to_be_visible()  # the chart's text
        page.locator("details.reminder summary").first.click()
        expect(page.locator("textarea[id$='-text']")).to_contain_text(reminder)
        look("orders")
        found = axe_violations(page)
        assert found == [], "\n".join(found)
        look.close()
