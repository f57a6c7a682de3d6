"""Money and times written the way the page's language writes them, in the account's currency and zone."""

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest

from tests.auth.test_language import ENGLISH_BROWSER, RUSSIAN_BROWSER, alice
from tests.orders.test_views import HX, order
from tests.support.desk import desk_config
from webapp import create_app
from webapp.web.extensions import babel


@pytest.fixture
def make_desk(sandbox_server, tmp_path):
    def make(**overrides):
        return create_app(desk_config(sandbox_server.url, tmp_path, **overrides))
    return make


@pytest.mark.parametrize("headers, currency, shown", [
    (ENGLISH_BROWSER, "RUB", "RUB\u00a01,500.50"),
    (RUSSIAN_BROWSER, "RUB", "1\u00a0500,50\u00a0₽"),
    (ENGLISH_BROWSER, "USD", "$1,500.50"),
    (RUSSIAN_BROWSER, "USD", "1\u00a0500,50\u00a0$"),
    (ENGLISH_BROWSER, "CHF", "CHF\u00a01,500.50"),
])
def test_the_summary_writes_money_in_the_pages_language_and_the_accounts_currency(
        make_desk, headers, currency, shown):
    client = alice(make_desk(ACCOUNT_CURRENCY=currency), headers)
    page = client.post("/summary", data=order(products__0__price="1500.50"), headers=HX)
    assert re.search(r'id="summary-total">([^<]*)<', page.get_data(as_text=True))[1] == shown


@pytest.mark.parametrize("headers, shown", [(ENGLISH_BROWSER, "RUB\u00a014,900.00"),
                                            (RUSSIAN_BROWSER, "14\u00a0900,00\u00a0₽")])
def test_catalogue_prices_in_the_picker_are_money_too(make_desk, headers, shown):
    client = alice(make_desk(), headers)
    page = client.get("/products/search", query_string={"q": "мессенджерах"}).get_data(as_text=True)
    assert re.search(r'<span class="price">([^<]*)</span>', page)[1] == shown


def _sent_at(app, moment: str) -> str:
    """Send an order, then set the time its attempt was recorded at, in the history store itself."""
    [stored] = (Path(app.instance_path) / "history").glob("*/*.json")
    entry = json.loads(stored.read_text(encoding="utf-8"))
    stored.write_text(json.dumps({**entry, "at": moment}), encoding="utf-8")
    return entry["id"]


@pytest.mark.parametrize("zone, headers, shown", [
    ("Europe/Moscow", ENGLISH_BROWSER, "Jan 31, 2026, 2:05:07\u202fPM +0300"),
    ("Europe/Moscow", RUSSIAN_BROWSER, "31 янв. 2026\u202fг., 14:05:07 +0300"),
    (None, ENGLISH_BROWSER, "Jan 31, 2026, 11:05:07\u202fAM UTC"),
    (None, RUSSIAN_BROWSER, "31 янв. 2026\u202fг., 11:05:07 UTC"),
])
def test_times_are_shown_in_the_accounts_zone_in_the_pages_language(make_desk, zone, headers, shown):
    desk = make_desk(ACCOUNT_TIMEZONE=zone)
    client = alice(desk, headers)
    assert client.post("/", data=order()).status_code == 303
    entry_id = _sent_at(desk, "2026-01-31T11:05:07+00:00")
    for page in (client.get("/history"), client.get(f"/attempts/{entry_id}"), client.get("/history/panel")):
        assert f'<time datetime="2026-01-31T11:05:07+00:00">{shown}</time>' in page.get_data(as_text=True)


@pytest.mark.parametrize("headers", [ENGLISH_BROWSER, RUSSIAN_BROWSER])
@pytest.mark.parametrize("typed, sent", [
    ("1500", "1500"), ("1500.50", "1500.50"), ("1 500,50", "1500.50"), ("1\u00a0500,50", "1500.50"),
    ("1\u202f500,50", "1500.50"), ("1500,5", "1500.5"), ("1,500.50", "1500.50"),
])
def test_every_way_of_typing_a_price_reaches_justclick_as_a_plain_decimal(
        make_desk, sandbox_server, headers, typed, sent):
    client = alice(make_desk(), headers)
    assert client.post("/", data=order(products__0__price=typed)).status_code == 303
    [accepted] = sandbox_server.book.all()
    assert accepted["params"]["product_prices"] == sent


@pytest.mark.parametrize("headers, shown", [(ENGLISH_BROWSER, "RUB\u00a01,500.50"),
                                            (RUSSIAN_BROWSER, "1\u00a0500,50\u00a0₽")])
@pytest.mark.parametrize("typed", ["1,500.50", "1 500,50"])
def test_the_summary_shows_the_price_as_the_desk_read_it(make_desk, headers, shown, typed):
    client = alice(make_desk(), headers)
    page = client.post("/summary", data=order(products__0__price=typed), headers=HX).get_data(as_text=True)
    assert re.search(r'<td class="num">\s*([^<]*?) <small class="tag">', page)[1] == shown


AMBIGUOUS_PRICE = {False: "“1,500” could mean 1500 or 1.5: type the one you mean, as 1500 or 1.5.",
                   True: "«1,500» можно прочесть как 1500 или как 1.5: введите нужное, 1500 или 1.5."}


@pytest.mark.parametrize("headers", [ENGLISH_BROWSER, RUSSIAN_BROWSER])
def test_a_price_read_differently_in_each_language_is_refused_beside_it_and_nothing_is_sent(
        make_desk, sandbox_server, headers):
    client = alice(make_desk(), headers)
    response = client.post("/", data=order(products__0__price="1,500"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert AMBIGUOUS_PRICE[headers is RUSSIAN_BROWSER] in page
    assert re.search(r'<input[^>]*name="products-0-price"[^>]*value="1,500"', page)
    assert sandbox_server.book.all() == []
    # the line's price is marked, not guessed
    summary = client.post("/summary", data=order(products__0__price="1,500"), headers=HX)
    assert '<span class="error-text">' in summary.get_data(as_text=True)


def _country_labels(page: str) -> list[str]:
    select = re.search(r'<select[^>]*name="customer_shipping_country_code".*?</select>', page, re.S)[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_countries_come_in_russian_in_russian_alphabetical_order(make_desk, sandbox_server):
    client = alice(make_desk(), RUSSIAN_BROWSER)
    page = client.get("/").get_data(as_text=True)
    assert '<option value="RU">Российская Федерация</option>' in page
    labels = _country_labels(page)[1:]  # after "none"
    assert labels[:3] == ["Австралия", "Австрия", "Азербайджан"] and labels[-2:] == ["Ямайка", "Япония"]
    # Ё sorts with Е, as Russian dictionaries have it, not after Я as its code point would.
    assert labels.index("Объединённые Арабские Эмираты") < labels.index("Оман")
    # The code sent stays the ISO code.
    response = client.post("/", data=order(customer_shipping_country_code="DE"))
    assert response.status_code == 303
    assert sandbox_server.book.all()[0]["params"]["customer_shipping_country_code"] == "DE"


def test_countries_in_english_sort_letters_with_accents_among_their_own(make_desk):
    page = alice(make_desk(), ENGLISH_BROWSER).get("/").get_data(as_text=True)
    assert _country_labels(page)[1:4] == ["Afghanistan", "Åland Islands", "Albania"]
    assert '<option value="RU">Russian Federation</option>' in page


def test_the_russian_sort_key_keeps_yo_with_ye_and_short_i_after_i():
    from webapp.i18n.countries import sort_key

    words = ["Яма", "Ешь", "Йод", "Ёж", "Ель", "Жук", "Ива", "Кот"]
    assert sorted(words, key=sort_key) == ["Ёж", "Ель", "Ешь", "Жук", "Ива", "Йод", "Кот", "Яма"]


@pytest.mark.parametrize("headers, shown", [(ENGLISH_BROWSER, "(Russian Federation)"),
                                            (RUSSIAN_BROWSER, "(Российская Федерация)")])
def test_the_phone_reading_names_the_country_in_the_pages_language(make_desk, headers, shown):
    client = alice(make_desk(), headers)
    page = client.post("/phone-reading/customer_phone", data={"customer_phone": "+79123456789"}, headers=HX)
    assert shown in page.get_data(as_text=True)


@pytest.mark.parametrize("headers, message", [(ENGLISH_BROWSER, "Not a valid choice."),
                                              (RUSSIAN_BROWSER, "Неверный вариант.")])
def test_wtforms_own_messages_come_in_the_pages_language(make_desk, sandbox_server, headers, message):
    """WTForms ships its messages in Russian; Flask-WTF picks them by Flask-Babel's locale."""
    client = alice(make_desk(), headers)
    response = client.post("/", data=order(customer_shipping_country_code="XX"))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert sandbox_server.book.all() == []


def _russian_catalogue(folder: Path, messages: dict) -> str:
    """A catalogue of a few Russian messages, for translating without the desk's own catalogue."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalogue = Catalog(locale="ru")
    for english, russian in messages.items():
        catalogue.add(english, russian)
    (folder / "ru" / "LC_MESSAGES").mkdir(parents=True)
    with open(folder / "ru" / "LC_MESSAGES" / "messages.mo", "wb") as mo:
        write_mo(mo, catalogue)
    return str(folder)


def _csv_rows(client) -> list[list[str]]:
    return list(csv.reader(io.StringIO(client.get("/history.csv").get_data(as_text=True).lstrip("\ufeff"))))


def test_the_csv_keeps_api_column_names_in_both_languages_and_translates_the_outcome(make_desk, tmp_path):
    folder = _russian_catalogue(tmp_path / "translations", {"Created": "Создан",
                                                            "Rejected by JustClick": "Отклонён JustClick"})
    desk = make_desk(BABEL_TRANSLATION_DIRECTORIES=folder)
    with desk.app_context():
        # Flask-Babel keeps loaded catalogues per process, not per app: this app's own must be read.
        catalogues = babel.domain_instance.cache
    catalogues.clear()
    try:
        _check_the_csv(desk)
    finally:
        catalogues.clear()  # and no later test may see this one


def _check_the_csv(desk):
    english, russian = alice(desk, ENGLISH_BROWSER), alice(desk, RUSSIAN_BROWSER)
    for client, email in ((english, "en@example.com"), (russian, "ru@example.com")):
        assert client.post("/", data=order(customer_email=email)).status_code == 303
        client.post("/", data=order(customer_email="error-602@sandbox.test"))
    [en_header, *en_rows], [ru_header, *ru_rows] = _csv_rows(english), _csv_rows(russian)
    assert en_header == ru_header and en_header[:3] == ["time", "operator", "outcome"]
    assert "customer_email" in ru_header and "product_names" in ru_header
    assert [row[2] for row in en_rows] == ["Rejected by JustClick", "Created"]
    assert [row[2] for row in ru_rows] == ["Отклонён JustClick", "Создан"]
    # the time stays ISO 8601 in UTC, for machines
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", row[0]) for row in en_rows + ru_rows)


@pytest.mark.parametrize("headers, shown", [(ENGLISH_BROWSER, "RUB\u00a015,400.00"),
                                            (RUSSIAN_BROWSER, "15\u00a0400,00\u00a0₽")])
def test_the_invoice_and_the_customer_message_write_the_amount_in_the_pages_language(
        make_desk, headers, shown):
    client = alice(make_desk(), headers)
    sent = client.post("/", data=order(products__0__price="500",
                                       products__1__good_name="sales-in-messengers"))
    entry_id = sent.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/attempts/{entry_id}/invoice", headers=HX).get_data(as_text=True)
    assert re.search(r'id="invoice-amount">([^<]*)<', page)[1] == shown  # 500 typed + 14 900 catalogue
    message = html.unescape(re.search(r'<textarea id="invoice-message"[^>]*>(.*?)</textarea>', page, re.S)[1])
    assert shown in message
