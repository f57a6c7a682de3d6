"""Each field rule of the order form, with the message an operator sees."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import wtforms.widgets
from flask import request
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from webapp import create_app
from webapp.auth.signin import LoginForm
from webapp.justclick.catalog import Catalog
from webapp.orders import widgets
from webapp.orders.form import OrderForm, api_labels, error_list
from webapp.orders.order import CREATEORDER_FIELDS
from webapp.sandbox.standin import SEED_COUPONS, SEED_GOODS, SEED_MANAGERS

GOOD = SEED_GOODS[0]["good_name"]
FULL_CATALOG = Catalog(goods=SEED_GOODS, coupons=SEED_COUPONS, managers=SEED_MANAGERS)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                       "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})


def check(app, catalog=FULL_CATALOG, region=None, timezone=None, language="en", **fields):
    data = MultiDict({"customer_email": "buyer@example.com", "products-0-good_name": GOOD})
    for name, value in fields.items():
        data[name.replace("__", "-")] = value
    with app.test_request_context(method="POST", data=data, headers={"Accept-Language": language}):
        form = OrderForm(catalog=catalog, default_region=region, timezone=timezone)
        form.validate()
        return form


def errors_of(form, name):
    """The first message shown beside the field, or None."""
    return next((message for field, message in error_list(form) if field.name == name), None)


def test_every_createorder_field_is_on_the_form(app):
    with app.test_request_context():
        form = OrderForm(catalog=FULL_CATALOG)
        missing = [n for n in CREATEORDER_FIELDS if n not in form._fields and not n.startswith("product_")]
    assert missing == []


def test_a_valid_order_loads_no_wtforms_catalogue(app):
    # A field without a label of its own asks WTForms for a default one, which loads WTForms' message
    # catalogue in every request only to name a hidden field. A valid order needs none of its messages.
    data = MultiDict({"customer_email": "buyer@example.com", "products-0-good_name": GOOD,
                      "products-1-good_name": SEED_GOODS[1]["good_name"], "submission_token": "x"})
    with app.test_request_context(method="POST", data=data):
        assert OrderForm(catalog=FULL_CATALOG).validate()
        LoginForm()  # the sign-in page's form, built as the page builds it
        assert getattr(request, "wtforms_translations", None) is None


def test_api_labels_are_worded_in_each_page_language(app):
    worded = {}
    for language in ("en", "ru", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            worded.setdefault(language, []).append(dict(api_labels()))
    assert worded["en"][0] == worded["en"][1]  # worded once, kept for the next page in that language
    assert worded["en"][0]["customer_first_name"] == "First name"
    assert worded["ru"][0]["customer_first_name"] not in ("", "First name")
    assert worded["en"][0]["product_names"] == "Products" and set(worded["ru"][0]) == set(worded["en"][0])


@pytest.mark.parametrize("attributes", [
    {"id": "x", "name": "customer_email", "value": "a@example.com", "type": "email"},
    {"value": 'say "hi" <b> & \'bye\'', "data_live": "1", "aria_invalid": "true", "class_": "wide"},
    {"value": Markup('already "safe" &amp;'), "placeholder": None, "required": True, "readonly": False},
    {"maxlength": 100, "for_": "x", "hx-post": "/summary?a=1&b=2", "aria-describedby": "a b"},
    {"weird key\"<": "v", "checked": True},
])
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    assert widgets.html_params(**attributes) == wtforms.widgets.html_params(**attributes)


def test_each_field_renders_as_wtforms_renders_it(app):
    data = MultiDict({"customer_email": 'x"y@example.com', "customer_first_name": '"Ivan" <&>',
                      "note": 'line <b> & "q"\r\nline 2', "billing_same_as_shipping": "y",
                      "products-0-good_name": GOOD, "products-0-price": "1 500,50",
                      "order_created_at": "2026-01-31 14:05", "submission_token": 'a"b'})
    with app.test_request_context(method="POST", data=data):
        form = OrderForm(catalog=FULL_CATALOG)
        form.validate()
        rendered = [f for f in form if f.name != "products"] + [sub for line in form.products for sub in line]
        ours = [f for f in rendered if type(f.widget).__module__ == widgets.__name__]
        selects = {"customer_shipping_country_code", "customer_billing_country_code", "order_status",
                   "order_confirmed"}  # rendered by the page from option_tags
        assert {f.name for f in rendered if f not in ours} == selects
        for field in ours:
            wtforms_widget = type(field.widget).__bases__[0]()
            for extra in ({}, {"aria-invalid": "true", "placeholder": 'a "b"', "required": True, "rows": 3}):
                assert field.widget(field, **extra) == wtforms_widget(field, **extra), field.name
        login = LoginForm(data={"username": 'a"b', "next": "/x?y=1&z"})  # the sign-in form's fields too
        for field in login:
            assert field() == type(field.widget).__bases__[0]()(field), field.name


def test_labels_are_in_each_page_language_whichever_came_before(app):
    for language, first_name, price in (("en", "First name", "Price override"), ("ru", "Имя", "Своя цена"),
                                        ("en", "First name", "Price override")):
        form = check(app, language=language)
        assert (form.customer_first_name.label.text, form.products[0].price.label.text) == (first_name, price)


def test_a_minimal_order_is_valid(app):
    form = check(app)
    assert form.errors == {}
    assert [line.good_name for line in form.lines()] == [GOOD]


@pytest.mark.parametrize("email, message", [
    ("", "JustClick needs the customer's email."),
    ("not-an-email", "This is not a valid email address."),
    ("a@@b.com", "This is not a valid email address."),
    ("x" * 250 + "@example.com", "At most 254 characters."),
    ("buyer@example.invalid", "This is not a valid email address."),
])
def test_email_rules(app, email, message):
    assert errors_of(check(app, customer_email=email), "customer_email") == message


def test_email_needs_no_dns(app):
    # A domain that cannot resolve is still a syntactically valid address: no lookups are made.
    assert check(app, customer_email="buyer@no-such-domain-4f7a9c.com").errors == {}


def test_a_phone_without_plus_is_read_in_the_default_region_and_becomes_e164(app):
    form = check(app, customer_phone="8 (912) 345-67-89", region="RU")
    assert form.errors == {}
    assert form.customer_phone.data == "+79123456789"
    assert check(app, customer_phone="(415) 555-2671", region="US").customer_phone.data == "+14155552671"


def test_a_phone_without_plus_is_never_read_in_the_address_country(app):
    # Read in Germany, "8 912 345-67-89" is a Munich number: the address says nothing of the phone.
    form = check(app, customer_phone="8 912 345-67-89", customer_shipping_country_code="DE",
                 customer_billing_country_code="DE", region="RU")
    assert form.customer_phone.data == "+79123456789"
    form = check(app, customer_shipping_phone="8 912 345-67-89", customer_shipping_country_code="DE")
    assert errors_of(form, "customer_shipping_phone") == PLUS_NEEDED


PLUS_NEEDED = ("Type it with + and the country code, e.g. +7 912 345-67-89. To type numbers without +, ask "
               "your administrator to set the desk's phone region.")


def test_phone_without_plus_or_region_asks_for_the_code(app):
    form = check(app, customer_phone="912 345 67 89")
    assert errors_of(form, "customer_phone") == PLUS_NEEDED
    assert check(app, customer_phone="+7 912 345-67-89").customer_phone.data == "+79123456789"


@pytest.mark.parametrize("phone", ["+7 912 345-67-89 ext. 123", "+1 415 555 2671 x12",
                                   "+44 20 7946 0958 доб. 5"])
def test_phone_extensions_are_refused_towards_the_note(app, phone):
    form = check(app, customer_phone=phone)
    assert errors_of(form, "customer_phone") == (
        "JustClick has no place for an extension: send the number without it and put the "
        "extension in the note.")


@pytest.mark.parametrize("phone", ["hello", "+7 123", "+1 555 000"])
def test_bad_phones_are_refused(app, phone):
    form = check(app, customer_shipping_phone=phone, region="RU")
    assert errors_of(form, "customer_shipping_phone") in (
        "This is not a phone number.", "This phone number is not valid for its country.")


@pytest.mark.parametrize("ip, ok", [("203.0.113.7", True), ("2001:db8::1", True),
                                    ("300.1.1.1", False), ("localhost", False)])
def test_order_ip(app, ip, ok):
    message = errors_of(check(app, order_ip=ip), "order_ip")
    assert (message is None) == ok
    if not ok:
        assert message == "Enter an IPv4 or IPv6 address."


def test_dates_in_the_future_are_refused(app):
    tomorrow = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = check(app, order_created_at=tomorrow, timezone="UTC")
    assert errors_of(form, "order_created_at") == "This time is in the future."


def test_paid_before_created_is_refused(app):
    form = check(app, order_created_at="2026-01-10T10:00", order_paid_at="2026-01-09T10:00")
    assert errors_of(form, "order_paid_at") == "Paid at cannot be before Created at."
    good = check(app, order_created_at="2026-01-10T10:00", order_paid_at="2026-01-10T10:30")
    assert good.errors == {}
    assert good.order_paid_at.data == datetime(2026, 1, 10, 10, 30)


def test_a_date_that_is_not_a_date(app):
    assert errors_of(check(app, order_created_at="yesterday"), "order_created_at")


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("typed, price", [
    ("1500", "1500"), ("1500.50", "1500.50"), ("1 500,50", "1500.50"), ("1\u00a0500,50", "1500.50"),
    ("1\u202f500,50", "1500.50"), ("1500,5", "1500.5"), ("1,500.50", "1500.50"), ("1 500", "1500"),
    ("1,234,567.89", "1234567.89"), ("0.99", "0.99"), ("0", "0"), ("0,00", "0"), (" 990 ", "990"),
])
def test_prices_as_operators_of_either_language_type_them(app, language, typed, price):
    form = check(app, products__0__price=typed, language=language)
    assert form.errors == {}
    assert form.lines()[0].price == Decimal(price)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("typed, price", [
    # as the desk itself writes money, in either language, and as people type roubles
    ("1\u00a0500,50\u00a0₽", "1500.50"), ("RUB\u00a01,500.50", "1500.50"), ("1500 руб.", "1500"),
    ("1500руб", "1500"), ("1 500 р.", "1500"), ("990 рублей", "990"), ("₽990", "990"), ("990 rub", "990"),
    ("1 500,00 RUB", "1500"),
])
def test_a_price_may_carry_the_accounts_currency(app, language, typed, price):
    form = check(app, products__0__price=typed, language=language)
    assert form.errors == {}
    assert form.lines()[0].price == Decimal(price)


@pytest.mark.parametrize("typed", ["$1500", "1500 €", "1500 USD", "1500 руб. $"])
def test_a_price_in_another_currency_is_refused_naming_the_accounts(app, typed):
    form = check(app, products__0__price=typed)
    assert errors_of(form, "products-0-price") == ("Prices are in RUB: type this one as a number in RUB, "
                                                   "e.g. 1500 or 1500.50.")


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("typed, readings", [("1,500", ("1500", "1.5")), ("12,990", ("12990", "12.99"))])
def test_a_price_whose_reading_depends_on_the_language_is_asked_about(app, language, typed, readings):
    """English reads "1,500" as fifteen hundred, Russian as one and a half: the desk guesses neither."""
    form = check(app, products__0__price=typed, language=language)
    wide, narrow = readings
    expected = {
        "en": f"“{typed}” could mean {wide} or {narrow}: type the one you mean, as {wide} or {narrow}.",
        "ru": f"«{typed}» можно прочесть как {wide} или как {narrow}: введите нужное, {wide} или {narrow}.",
    }
    assert errors_of(form, "products-0-price") == expected[language]


@pytest.mark.parametrize("typed, message", [
    ("abc", "Enter a price as a number, e.g. 1500 or 1500.50."),
    ("-5", "A price cannot be negative."),
    ("-0.01", "A price cannot be negative."),
    ("10.555", "A price has at most 2 decimal places."),
    ("1.500", "A price has at most 2 decimal places."),  # 1.5 in both languages, never fifteen hundred
    ("1.500,50", "Enter a price as a number, e.g. 1500 or 1500.50."),
    ("1,5,0", "Enter a price as a number, e.g. 1500 or 1500.50."),
    ("NaN", "Enter a price as a number, e.g. 1500 or 1500.50."),
    ("1e12", "That price is too large."),
])
def test_bad_prices(app, typed, message):
    form = check(app, products__0__price=typed)
    assert errors_of(form, "products-0-price") == message
    with app.test_request_context():
        assert form.products[0].price._value() == typed  # the operator's input is kept as typed


def test_at_least_one_product(app):
    form = check(app, products__0__good_name="")
    assert errors_of(form, "products-0-good_name") == "Add at least one product."


def test_a_price_without_a_product(app):
    form = check(app, products__1__good_name="", products__1__price="100")
    assert errors_of(form, "products-1-good_name") == "Choose a product for this price."


def test_unknown_product_when_the_list_is_known(app):
    form = check(app, products__0__good_name="no-such-thing")
    assert errors_of(form, "products-0-good_name") == "The shop has no product “no-such-thing”."


def test_typed_ids_are_accepted_when_lists_are_unavailable(app):
    form = check(app, catalog=Catalog(), products__0__good_name="any-slug_1", coupon="585",
                 order_sales_manager="71257")
    assert form.errors == {}
    bad = check(app, catalog=Catalog(), products__0__good_name="два слова", coupon="SUMMER")
    assert errors_of(bad, "products-0-good_name") == "A product id has no spaces or commas."
    assert errors_of(bad, "coupon") == "Enter the coupon's numeric id."
    assert errors_of(check(app, catalog=Catalog(), products__0__good_name="a,b"),
                     "products-0-good_name") == "A product id has no spaces or commas."


@pytest.mark.parametrize("slug", ["курс-продаж", "Kurs.2025", "_draft", "книга"])
def test_typed_ids_may_be_any_text_justclick_allows(app, slug):
    form = check(app, catalog=Catalog(), products__0__good_name=slug)
    assert form.errors == {}
    assert [line.good_name for line in form.lines()] == [slug]


def test_coupon_and_manager_must_come_from_their_lists(app):
    form = check(app, coupon="999999", order_sales_manager="1")
    assert errors_of(form, "coupon") == "Choose a coupon from the list."
    assert errors_of(form, "order_sales_manager") == "Choose a manager from the list."
    ok = check(app, coupon=str(SEED_COUPONS[0]["id"]), order_sales_manager=str(SEED_MANAGERS[0]["id"]))
    assert ok.errors == {}


def test_affiliates_are_trimmed_in_order(app):
    form = check(app, affiliates=" alpha , beta, gamma_3 ,")
    assert form.errors == {}
    assert form.affiliates.data == "alpha,beta,gamma_3"
    assert errors_of(check(app, affiliates="alpha, two words"), "affiliates").startswith(
        "Not a partner login: two words.")


@pytest.mark.parametrize("typed, position", [(", partner2", 1), ("alpha,,beta", 2), ("alpha, ,beta", 2)])
def test_an_empty_partner_position_before_a_filled_one_is_refused(app, typed, position):
    # Dropping the empty one would move each later partner up a level.
    assert errors_of(check(app, affiliates=typed), "affiliates") == (
        f"Position {position} is empty: the first login is the level-1 partner, the second level 2, "
        "and so on. Remove the extra comma or fill the position in.")


def test_length_limits(app):
    too_long = check(app, customer_first_name="x" * 101)
    assert errors_of(too_long, "customer_first_name") == "At most 100 characters."
    assert errors_of(check(app, note="y" * 2001), "note") == "At most 2000 characters."


def test_billing_same_as_shipping_with_a_typed_billing_address(app):
    form = check(app, billing_same_as_shipping="y", customer_billing_city="Kazan")
    assert errors_of(form, "billing_same_as_shipping").startswith("Untick this")


def test_status_and_confirmed_only_take_documented_values(app):
    assert errors_of(check(app, order_status="Shipped"), "order_status")
    assert errors_of(check(app, order_confirmed="Maybe"), "order_confirmed")
    assert check(app, order_status="MoneyBack", order_confirmed="No").errors == {}


@pytest.mark.parametrize("field", ["customer_shipping_country_code", "customer_billing_country_code"])
def test_a_country_is_one_of_the_listed_codes_or_none(app, field):
    for code in ("", "DE", "RU", "AX"):
        assert check(app, **{field: code}).errors == {}, code
    for code in ("de", "DEU", "XX", " DE", "— none —"):
        assert errors_of(check(app, **{field: code}), field) == "Not a valid choice.", code
    assert errors_of(check(app, language="ru", **{field: "XX"}), field) == "Неверный вариант."


def test_one_order_tag_only(app):
    assert errors_of(check(app, order_tag="vip, webinar"), "order_tag") == (
        "One tag only: JustClick takes a single order tag, so no commas.")
    assert check(app, order_tag="vip-webinar").errors == {}


@pytest.mark.parametrize("field", ["order_created_at", "order_paid_at"])
@pytest.mark.parametrize("typed", ["0999-01-01T00:00", "1999-12-31T23:59", "2101-01-01T00:00"])
def test_years_outside_2000_to_2100_are_refused(app, field, typed):
    form = check(app, timezone="UTC", **{field: typed})
    assert errors_of(form, field) == "Enter a year from 2000 to 2100."


def test_years_2000_to_2100_are_taken(app):
    form = check(app, order_created_at="2000-01-01T00:00", order_paid_at="2000-01-01T00:05")
    assert form.errors == {}


# --- the same product twice, emails, dates, tags ------------------------------------------------

def test_the_same_product_twice_is_refused(app):
    form = check(app, products__1__good_name=GOOD, products__1__price="10")
    assert errors_of(form, "products-1-good_name") == (
        f"“{GOOD}” is already on line 1. An order takes each product once: send a second order for more.")
    assert errors_of(form, "products-0-good_name") is None


@pytest.mark.parametrize("typed", ["x@xn--e1afmkfd.xn--p1ai", "x@пример.рф", "x@ПРИМЕР.рф"])
def test_an_international_domain_is_sent_in_its_ascii_form(app, typed):
    form = check(app, customer_email=typed)
    assert form.errors == {}
    assert form.customer_email.data == "x@xn--e1afmkfd.xn--p1ai"


# --- what JustClick must never receive -----------------------------------------------------------

@pytest.mark.parametrize("field", ["customer_first_name", "customer_shipping_city", "order_tag", "utm_source",
                                   "customer_email", "payment_method", "products__0__good_name"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07", "\x0b", "\x0c", "\r", "\n", "\u202e", "\u2066"])
def test_control_and_direction_characters_are_refused(app, field, char):
    value = {"customer_email": f"iv{char}an@example.com",
             "products__0__good_name": f"dig{char}ital"}.get(field, f"Iv{char}an")
    form = check(app, **{field: value})
    message = errors_of(form, field.replace("__", "-"))
    assert message and message.startswith("Remove the invisible character")
    assert f"U+{ord(char):04X}" in message


def test_the_note_keeps_its_lines_and_tabs_but_not_other_controls(app):
    form = check(app, note="Call after 18:00\r\n\tAsk for Anna")
    assert form.errors == {} and form.note.data == "Call after 18:00\r\n\tAsk for Anna"
    assert errors_of(check(app, note="a\x1bb"), "note").startswith("Remove the invisible character")
    assert errors_of(check(app, note="a\u202eb"), "note").startswith("Remove the invisible character")


def test_a_product_line_field_posted_twice_is_refused(app):
    data = MultiDict([("customer_email", "buyer@example.com"), ("products-0-good_name", GOOD),
                      ("products-0-price", "10"), ("products-0-price", "20")])
    with app.test_request_context(method="POST", data=data):
        form = OrderForm(catalog=FULL_CATALOG)
        assert not form.validate()
    assert errors_of(form, "products-0-price") == (
        "This field was sent twice; send the form again from the page.")


def test_more_than_100_product_lines_are_refused_not_cut(app):
    lines = {f"products-{i}-good_name": f"item-{i}" for i in range(120)}
    lines.update({f"products-{i}-price": "5" for i in range(110, 120)})  # the last lines carry prices
    with app.test_request_context(method="POST", data={"customer_email": "buyer@example.com", **lines}):
        form = OrderForm(catalog=Catalog())
        assert not form.validate()
    assert [m for _, m in error_list(form)] == [
        "At most 100 product lines in one order; this one has 120. Split it into two orders."]


@pytest.mark.parametrize("typed", ["2026-01-05 10:30", "2026-01-05T10:30", "05.01.2026 10:30",
                                   "2026-01-05 10:30:00"])
def test_a_time_is_one_text_field_typed_in_common_forms(app, typed):
    form = check(app, order_created_at=typed)
    assert form.order_created_at.data == datetime(2026, 1, 5, 10, 30) and not form.order_created_at.errors
    html = str(form.order_created_at())
    assert 'type="text"' in html  # one tab stop, not one per date segment


def test_a_time_that_cannot_be_read_says_how_to_type_it(app):
    form = check(app, order_created_at="5 Jan")
    assert "2026-01-31 14:05" in errors_of(form, "order_created_at")
