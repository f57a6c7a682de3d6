"""Accessibility in a real browser: axe, the keyboard alone, focus, live regions, the CSP, small screens.

axe-core runs through the DevTools protocol, which the page's Content-Security-Policy does not govern, so
the scans run in an ordinary context with the policy in force.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.e2e.test_order_flow import group, section

# The rules of WCAG 2.0 and 2.1, levels A and AA.
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}
FILLED_NOTE = "Filled from the pasted text: check it."


# --- helpers ------------------------------------------------------------------------------------


def ip_field(page: Page) -> Locator:
    return section(page, "Attribution").get_by_label("Customer IP address")


def customer_field(page: Page, label: str) -> Locator:
    return group(page, "Customer").get_by_label(label)  # "Email" is named "Email (required)"


def shipping_field(page: Page, label: str) -> Locator:
    return group(page, "Shipping address").get_by_label(label, exact=True)


def product_select(page: Page, index: int = 0) -> Locator:
    return page.get_by_label(re.compile(r"^Product\b(?!s)")).nth(index)


def price_input(page: Page, index: int = 0) -> Locator:
    return page.get_by_label("Price override").nth(index)


def create_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Create order")


def created_heading(page: Page, where: str = "JustClick") -> Locator:
    return page.get_by_role("heading", name=f"✓ Order created in {where}")


def picker(page: Page) -> Locator:
    return page.get_by_role("combobox", name="Find a product to add")


def picker_options(page: Page) -> Locator:
    return page.get_by_role("listbox", name="Matching products").get_by_role("option")


def error_summary(page: Page) -> Locator:
    return page.get_by_role("alert").filter(has_text="Nothing was sent to JustClick")


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def send_order(page: Page, email: str, good_name: str = "digital") -> None:
    """Fill the least an order needs and send it (the outcome is the caller's to wait for)."""
    customer_field(page, "Email").fill(email)
    product_select(page).select_option(good_name)
    create_button(page).click()


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page: Page, target: Locator, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, as an operator would."""
    for _ in range(limit):
        if is_focused(target):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{limit} presses of {'Shift+' if backwards else ''}Tab never reached {target}")


def axe_violations(page: Page) -> list[str]:
    """Every WCAG 2.1 A/AA violation axe finds on the page, one readable line per element."""
    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    lines = []
    for violation in found:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " >>> ".join(str(part) for part in node["target"])
            why = next((check["message"] for check in node["any"] + node["all"] + node["none"]), "")
            lines.append(f"    - {target}: {why}")
    return lines


# --- 1. axe on every screen an operator meets -------------------------------------------------


def test_every_screen_passes_axe_for_wcag_21_aa(sandbox_desk, page):
    """Sandbox mode: the banner is on every page, so its contrast is checked with each of them."""
    report: dict[str, list[str]] = {}
    page.on("dialog", lambda dialog: dialog.accept())  # leaving a form with unsent changes

    def scan(name: str) -> None:
        report[name] = axe_violations(page)

    page.goto(sandbox_desk.url)
    expect(page.get_by_role("heading", name="Sign in to Order Desk")).to_be_visible()
    scan("sign-in page")
    page.get_by_label("Username").fill(sandbox_desk.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    scan("sign-in page with an error")

    sandbox_desk.open(page)
    expect(picker(page)).to_be_visible()  # app.js has run
    scan("order page, empty")

    picker(page).press_sequentially("курс")
    expect(picker_options(page).first).to_be_visible()
    picker(page).press("ArrowDown")
    scan("order page, product picker open")
    picker(page).press("Escape")

    customer_field(page, "Email").fill("not-an-email")
    ip_field(page).fill("999.1.1.1")
    create_button(page).click()
    expect(error_summary(page)).to_be_focused()
    scan("order page with errors")
    ip_field(page).fill("")

    send_order(page, "error-602@sandbox.test")
    expect(page.get_by_role("alert").filter(has_text="JustClick refused the order")).to_be_visible()
    scan("order page, refused by JustClick")
    held = []  # the desk's own look for the order, held until the warning has been seen
    page.route("**/attempts/*/invoice*", lambda route: held.append(route))
    send_order(page, "broken@sandbox.test")
    unknown = page.get_by_role("alert").filter(has_text="Check in JustClick before sending again")
    expect(unknown).to_be_visible()
    # The desk looks for it by itself: the sandbox made it.
    for route in held:
        route.continue_()
    page.unroute("**/attempts/*/invoice*")
    expect(page.locator("#invoice")).to_contain_text("Found in JustClick: this order was created")
    expect(page.locator("#order-form")).to_have_count(0)  # the page says only that: no live form
    scan("order page, unknown outcome settled by a look")

    page.get_by_role("link", name="New order", exact=True).first.click()
    send_order(page, "buyer@example.com")
    expect(created_heading(page, "the sandbox")).to_be_visible()
    expect(page.locator("#invoice-link")).to_be_visible()
    scan("order page after a successful order, with its invoice")

    page.get_by_role("link", name="New order", exact=True).first.click()
    send_order(page, "buyer@example.com")
    expect(page.get_by_role("alert").filter(has_text="an order you just created")).to_be_visible()
    scan("order page, asking before a likely duplicate")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(page.get_by_role("table", name="Order attempts, newest first")).to_be_visible()
    scan("history page with entries")

    page.get_by_role("row").filter(has_text="buyer@example.com").get_by_role("link", name="Details").click()
    expect(created_heading(page, "the sandbox")).to_be_visible()
    scan("attempt detail page")

    page.get_by_role("link", name="See sandbox orders").click()
    expect(page.get_by_role("heading", name="Sandbox orders")).to_be_visible()
    scan("sandbox orders page")

    failed = {name: lines for name, lines in report.items() if lines}
    assert not failed, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"{name}:\n" + "\n".join(lines) for name, lines in failed.items())


# --- 2. the keyboard alone -------------------------------------------------------------------------


def test_an_order_can_be_made_with_the_keyboard_alone(live_desk, page, console):
    keys = page.keyboard
    page.goto(live_desk.url)
    expect(page.get_by_label("Username")).to_be_focused()
    keys.type(live_desk.username)
    keys.press("Tab")
    keys.type(live_desk.password)
    keys.press("Enter")
    expect(page).to_have_url(live_desk.url)
    page.wait_for_load_state()
    # From here on, any pointer event would mean something needed the mouse.
    page.evaluate("""() => { window.pointerEvents = 0;
        for (const type of ["pointerdown", "mousedown", "pointerup", "mouseup"])
            document.addEventListener(type, () => { window.pointerEvents += 1; }, true); }""")

    email = customer_field(page, "Email")
    expect(email).to_be_focused()  # the first field, ready to type
    for label in ("Phone", "First name", "Last name", "Middle name"):
        keys.press("Tab")
        expect(customer_field(page, label)).to_be_focused()
    keys.press("Tab")
    expect(picker(page)).to_be_focused()
    for _ in range(5):
        keys.press("Shift+Tab")
    expect(email).to_be_focused()
    keys.press("Shift+Tab")  # before the first field: the paste box, folded
    expect(page.get_by_text("Paste details from an email or message")).to_be_focused()
    keys.press("Tab")

    keys.type("keyboard.only@example.com")
    tab_to(page, picker(page))
    keys.type("вебинар")
    option = picker_options(page).filter(has_text="Вебинарные воронки")
    expect(option).to_be_visible()
    keys.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    keys.press("Enter")
    expect(product_select(page)).to_have_value("webinar-funnels")
    expect(picker(page)).to_be_focused()

    tab_to(page, price_input(page))
    keys.type("7 500")
    coupon = page.get_by_label("Coupon")
    tab_to(page, coupon)
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    expect(coupon.locator("option:checked")).to_have_text("welcome10")
    keys.press("Control+Enter")

    outcome = page.get_by_role("status").filter(has=created_heading(page))
    expect(outcome).to_be_visible()
    expect(outcome).to_be_focused()
    assert page.evaluate("window.pointerEvents") == 0, "something in the flow used the mouse"
    [order] = live_desk.book.all()
    sent = order["params"]
    assert (sent["customer_email"], sent["product_names"], sent["product_prices"], sent["coupon"]) == (
        "keyboard.only@example.com", "webinar-funnels", "7500", "586")
    console.assert_clean()


# --- 3. the error summary ----------------------------------------------------------------------------


def test_the_error_summary_takes_focus_and_its_links_lead_to_the_fields(live_desk, page, console):
    live_desk.open(page)
    email = customer_field(page, "Email")
    ip = ip_field(page)
    email.fill("ivan@@example")
    ip.fill("999.1.1.1")
    ip.press("Control+Enter")

    summary = error_summary(page)
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Check these 3 entries")
    links = summary.get_by_role("link")
    expect(links).to_have_text([re.compile("^Email: "), re.compile("^Customer IP address: "),
                                re.compile("^Product: ")])

    page.keyboard.press("Tab")  # from the summary to its first link
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(email).to_be_focused()
    for link, field in ((links.nth(1), ip), (links.nth(2), product_select(page))):
        tab_to(page, link, backwards=True)
        page.keyboard.press("Enter")
        expect(field).to_be_focused()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_be_in_viewport()
    assert live_desk.book.all() == []
    console.assert_clean(expected_statuses=[422])


# --- 4. leaving with unsent changes -----------------------------------------------------------------


def test_leaving_with_unsent_changes_asks_first_and_only_then(live_desk, page):
    dialogs: list[str] = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    history_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="History")

    live_desk.open(page)
    history_link.click()  # nothing typed: nothing to lose
    expect(page).to_have_url(live_desk.url + "history")
    assert dialogs == []

    live_desk.open(page)
    customer_field(page, "Email").press_sequentially("leaving@example.com")
    with page.expect_event("dialog"):
        history_link.click()
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(live_desk.url)  # the operator chose to stay: nothing lost
    expect(customer_field(page, "Email")).to_have_value("leaving@example.com")

    create_button(page).click()  # not valid yet: the changes are still unsent
    expect(error_summary(page)).to_be_visible()
    with page.expect_event("dialog"):
        history_link.click()
    assert dialogs == ["beforeunload"] * 2

    product_select(page).select_option("digital")
    create_button(page).click()
    expect(created_heading(page)).to_be_visible()
    history_link.click()  # sent: nothing left to lose
    expect(page).to_have_url(live_desk.url + "history")
    assert dialogs == ["beforeunload"] * 2
    assert len(live_desk.book.all()) == 1


# --- 5. the paste box ----------------------------------------------------------------------------------


RUSSIAN_MESSAGE = """Добрый день!
Прошу выставить счёт на интенсив.
Иванова Мария Сергеевна
8 (916) 123-45-67
maria.ivanova@example.ru
ул. Ленина, д. 5, кв. 12
г. Екатеринбург, 620014
Россия"""

ENGLISH_SIGNATURE = """Thanks, see you at the workshop.

Best regards,
John Carter
Head of Sales, Acme Widgets Inc.
+1 (415) 555-2671
john.carter@acme-widgets.example.com
1600 Market Street, Suite 400
San Francisco, CA 94103
United States"""

UK_ONE_LINER = "Please invoice Olivia Brown, olivia.brown@example.co.uk, tel 020 7946 0958, United Kingdom"

PASTE_CASES = {
    "russian-message": (RUSSIAN_MESSAGE, {"Email": "m.ivanova@typed.example"}, {
        "Phone": "+79161234567", "Last name": "Иванова", "First name": "Мария", "Middle name": "Сергеевна",
        "Address": "ул. Ленина, д. 5, кв. 12", "City": "Екатеринбург", "Postcode": "620014", "Country": "RU",
    }),
    "english-signature": (ENGLISH_SIGNATURE, {"First name": "Johnny"}, {
        "Email": "john.carter@acme-widgets.example.com", "Phone": "+14155552671", "Last name": "Carter",
        "Address": "1600 Market Street, Suite 400", "City": "San Francisco", "Region / state": "CA",
        "Postcode": "94103", "Country": "US",
    }),
    "uk-one-liner": (UK_ONE_LINER, {}, {
        # Read as the phone field reads it, in DEFAULT_PHONE_REGION (RU here), not in the address's
        # country: not a Russian number, it goes in as typed and the field says why.
        "Email": "olivia.brown@example.co.uk", "Phone": "020 7946 0958", "First name": "Olivia",
        "Last name": "Brown", "Country": "GB",
    }),
}
SHIPPING_LABELS = {"Address", "City", "Region / state", "Postcode", "Country"}


def form_field(page: Page, label: str) -> Locator:
    return shipping_field(page, label) if label in SHIPPING_LABELS else customer_field(page, label)


@pytest.mark.parametrize("sample", PASTE_CASES)
def test_pasted_details_fill_only_empty_fields_and_are_marked(make_desk, page, console, sample):
    text, typed, expected = PASTE_CASES[sample]
    live_desk = make_desk(DEFAULT_PHONE_REGION="RU")
    live_desk.open(page)
    for label, value in typed.items():
        form_field(page, label).fill(value)

    page.get_by_text("Paste details from an email or message").click()
    page.get_by_label("Paste details").fill(text)
    page.get_by_role("button", name="Fill from text").click()

    result = page.get_by_role("status").filter(has_text="from the pasted text")
    expect(result).to_contain_text(f"Filled {len(expected)} fields")
    for label, value in expected.items():
        field = form_field(page, label)
        expect(field).to_have_value(value)
        expect(field).to_have_accessible_description(re.compile(re.escape(FILLED_NOTE)))
    for label, value in typed.items():
        field = form_field(page, label)
        expect(field).to_have_value(value)
        expect(field).not_to_have_accessible_description(re.compile(re.escape(FILLED_NOTE)))
    if typed:
        expect(result).to_contain_text(f"{len(typed)} field you had typed was left as it was")
    expect(page.get_by_text(FILLED_NOTE)).to_have_count(len(expected))
    expect(page.get_by_label("Paste details")).to_have_value(text)
    assert live_desk.book.all() == []
    console.assert_clean()


# --- 6. the Content-Security-Policy holds ---------------------------------------------------------


def test_using_the_desk_breaks_no_content_security_policy(live_desk, page, console):
    """An ordinary context: the policy is in force, and the browser reports what it refuses."""
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)

    response = page.goto(live_desk.url)
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    live_desk.open(page)

    picker(page).press_sequentially("курс")
    expect(picker_options(page).first).to_be_visible()
    picker(page).press("ArrowDown")
    picker(page).press("Enter")
    expect(page.locator("#wire-names")).to_have_text("sales-in-messengers")
    price_input(page).fill("12 000")
    expect(page.locator("#summary-total")).to_have_text("RUB\u00a012,000.00")
    page.get_by_role("button", name="Add product line").click()
    product_select(page, 1).select_option("digital")
    expect(page.locator("#wire-names")).to_have_text("sales-in-messengers,digital")
    section(page, "Billing address").get_by_label("Same as shipping").check()
    section(page, "Attribution")
    customer_field(page, "Email").fill("csp@example.com")
    create_button(page).click()
    expect(created_heading(page)).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    expect(page).to_have_url(re.compile(r"/history$"))
    page.wait_for_load_state()  # htmx listens to the filter once the page's scripts have run
    page.get_by_label("Show").select_option(label="Created")
    expect(page).to_have_url(re.compile(r"outcome=created"))
    row = page.get_by_role("row").filter(has_text="csp@example.com")
    row.get_by_role("link", name="Duplicate").click()
    expect(customer_field(page, "Email")).to_have_value("csp@example.com")
    expect(page.locator("#wire-names")).to_have_text("sales-in-messengers,digital")

    assert refused == [], "the Content-Security-Policy refused:\n" + "\n".join(refused)
    console.assert_clean()


# --- 7. live regions ---------------------------------------------------------------------------------


def is_live(locator: Locator) -> bool:
    """In a live region: aria-live itself, or a role that implies it (status, alert)."""
    return locator.evaluate("""element => {
        const live = element.closest("[aria-live], [role=status], [role=alert], [role=log]");
        return Boolean(live) && live.getAttribute("aria-live") !== "off";
    }""")


def test_the_total_and_the_outcome_are_announced(live_desk, page, console):
    live_desk.open(page)
    announcer = page.locator("#summary-status")
    expect(announcer).to_have_attribute("role", "status")
    expect(announcer).to_be_attached()  # there before anything changes, or nothing would be announced

    product_select(page).select_option("sales-in-messengers")
    total = page.locator("#summary-total")
    expect(total).to_have_text("RUB\u00a014,900.00")
    expect(announcer).to_have_text("Total: RUB\u00a014,900.00")
    price_input(page).fill("12000")
    expect(total).to_have_text("RUB\u00a012,000.00")
    expect(announcer).to_have_text("Total: RUB\u00a012,000.00")
    assert is_live(announcer)
    expect(page.locator("#alerts")).to_have_attribute("aria-live", "assertive")  # htmx error answers

    customer_field(page, "Email").fill("live@example.com")
    create_button(page).click()
    outcome = page.locator("#outcome")
    expect(outcome).to_have_attribute("role", "status")
    expect(outcome).to_have_accessible_name("✓ Order created in JustClick")
    expect(outcome).to_be_focused()
    assert is_live(outcome)
    console.assert_clean()


def test_a_refusal_is_an_alert_with_a_name(live_desk, page, console):
    live_desk.open(page)
    send_order(page, "error-602@sandbox.test")
    outcome = page.locator("#outcome")
    expect(outcome).to_have_attribute("role", "alert")
    expect(outcome).to_have_accessible_name("✗ JustClick refused the order")
    expect(outcome).to_be_focused()
    console.assert_clean(expected_statuses=[422])


# --- 8. a phone and a wide screen ---------------------------------------------------------------------


def test_errors_and_history_fit_a_phone_and_a_wide_screen(live_desk, page, console, screenshot):
    sizes = ((375, 812), (1440, 900))
    sideways, violations = [], []

    def look(name: str, what: str) -> None:
        for width, height in sizes:
            page.set_viewport_size({"width": width, "height": height})
            screenshot(page, f"{name}-{width}")
            if width == 375:  # the phone layout is a layout of its own: it gets its own scan
                if not no_horizontal_scroll(page):
                    sideways.append(what)
                violations.extend(f"{what} at 375 px: {line.strip()}" for line in axe_violations(page))

    live_desk.open(page)
    send_order(page, "error-602@sandbox.test", "sales-in-messengers")
    expect(page.get_by_role("alert").filter(has_text="JustClick refused the order")).to_be_visible()
    customer_field(page, "Email").fill("a.rather.long.customer.address@example-company.com")
    create_button(page).click()
    expect(created_heading(page)).to_be_visible()
    expect(page.locator("#invoice-link")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    table = page.get_by_role("table", name="Order attempts, newest first")
    expect(table).to_be_visible()
    look("history", "the history page")
    page.set_viewport_size({"width": 375, "height": 812})  # the rows drawn as cards, the markup still a table
    expect(table.get_by_role("row")).to_have_count(3)
    expect(table.get_by_role("columnheader")).to_have_count(9)
    created = table.get_by_role("row").nth(1).get_by_role("cell")
    expect(created.nth(4)).to_contain_text("a.rather.long.customer.address@example-company.com")
    expect(created.nth(2)).to_contain_text("Payment link")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New order").click()
    customer_field(page, "Email").fill("ivan@@example")
    customer_field(page, "Phone").fill("12")
    create_button(page).click()
    expect(error_summary(page)).to_be_visible()
    look("order-errors", "the order page with errors")
    assert not sideways, f"scrolls sideways at 375 px: {', '.join(sideways)}"
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)
    console.assert_clean(expected_statuses=[422])
