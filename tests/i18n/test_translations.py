"""The catalogues: complete, up to date with the sources, compiled as committed, and every page and
partial rendered in Russian without a sentence left in English."""

import re
import subprocess
from html.parser import HTMLParser

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.orders.test_faults import answer_lists
from tests.support import ROOT
from tests.support.desk import OPERATOR, TEAM_USERS, desk_config, desk_in, reply_hash, sign_in, timeouts_of
from webapp import create_app
from webapp.sandbox.standin import ERROR_TEXTS, SEED_GOODS

TRANSLATIONS = ROOT / "webapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
LANGUAGES = sorted(p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists())
DIGITAL = next(g for g in SEED_GOODS if g["good_type"] == "digital")
PHYSICAL = next(g for g in SEED_GOODS if g["good_type"] == "physical")
HX = {"HX-Request": "true"}


def _po(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def _ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


# --- the catalogues -------------------------------------------------------------------------------


def test_russian_is_among_the_languages():
    assert "ru" in LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    catalog = _po(language)
    untranslated = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple)
                                                                else [m.string])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    assert not catalog.fuzzy  # the header too: a fuzzy header makes the compiled catalogue empty


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language):
    problems = [(m.id, [str(e) for e in errors]) for m, errors in _po(language).check()]
    assert problems == []


def test_russian_has_its_three_plural_forms():
    catalog = _po("ru")
    assert catalog.num_plurals == 3
    plurals = [m for m in catalog if m.pluralizable]
    assert plurals and all(len(m.string) == 3 for m in plurals)


def test_the_template_holds_every_marked_string_of_the_sources(tmp_path):
    """A string marked but never extracted (or a stale one never removed) fails here."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(["make", "-s", "translations-extract", f"POT={fresh}"], cwd=ROOT, check=True,
                   capture_output=True)
    with open(fresh, "rb") as f:
        extracted = _ids(read_po(f))
    with open(POT, "rb") as f:
        committed = _ids(read_po(f))
    assert sorted(extracted - committed) == [] and sorted(committed - extracted) == []
    for language in LANGUAGES:  # and each catalogue was updated from it
        assert _ids(_po(language)) == committed, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_is_compiled_from_the_po(language):
    """A deploy that only runs pip install serves the committed .mo: it must say what the .po says."""
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    source = {_key(m.id): _key(m.string) for m in _po(language) if m.id and not m.fuzzy}
    assert compiled == source


def _key(text):
    return tuple(text) if isinstance(text, list | tuple) else text


def test_the_package_ships_the_catalogues():
    pyproject = (ROOT / "pyproject.toml").read_text()
    for pattern in ("translations/*/LC_MESSAGES/*.mo", "translations/*/LC_MESSAGES/*.po"):
        assert pattern in pyproject


# --- every page in Russian ----------------------------------------------------------------------


class _Visible(HTMLParser):
    """The text a person meets on a page: its text, and the words its attributes say or app.js shows.
    JustClick's reply as recorded (pre) is data. With `words_only`, without the rest of what holds
    data rather than the desk's words: options (countries, goods, managers), code, the typed text of
    text areas."""

    SAID = ("aria-label", "placeholder", "title", "alt")
    HIDDEN = ("script", "style", "pre")
    DATA = ("option", "code", "textarea")

    def __init__(self, words_only=False):
        super().__init__(convert_charrefs=True)
        self.parts, self.open = [], []
        self.skipped = self.HIDDEN + (self.DATA if words_only else ())

    def handle_starttag(self, tag, attrs):
        if tag in self.skipped:
            self.open.append(tag)
        for name, value in attrs:
            if value and (name in self.SAID or name.startswith("data-")) and name != "data-copy":
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in self.open:
            self.open.remove(tag)

    def handle_data(self, data):
        if not self.open:
            self.parts.append(data)


def visible_text(html: str, words_only=False) -> str:
    parser = _Visible(words_only)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


#: Data a Russian page shows as it is: the stand-in's product titles and error texts (JustClick's own
#: words, shown verbatim), the operators' names.
DATA = sorted({g["good_title"] for g in SEED_GOODS} | set(ERROR_TEXTS.values())
              | {"Sandbox: an error code the documentation lacks", OPERATOR["name"], "Demo operator"},
              key=len, reverse=True)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
LATIN_RUN = re.compile(r"[A-Za-z][\w'’-]*(?:[ ,:;]+[A-Za-z][\w'’-]*){2,}")


def unmarked_english(html: str) -> list[str]:
    """Three or more English words in a row that are not data: a string nobody marked for translation."""
    text = EMAIL.sub(" ", visible_text(html, words_only=True))
    text = re.sub(r"\S*_\S*", " ", text)  # API names (utm_source, good_name) are the same in every language
    for data in DATA:
        text = text.replace(data, " ")
    return sorted(set(LATIN_RUN.findall(text)))


def _english_sentences() -> set[str]:
    """Runs of three or more words of every English message: what must not be left on a Russian page.
    Placeholders and markup split a message into the runs around them."""
    with open(POT, "rb") as f:
        template = read_po(f)
    runs = set()
    for message in template:
        for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
            for run in re.split(r"%\(\w+\)[sd]|<[^>]+>", text or ""):
                run = " ".join(run.split()).strip(" .,:;()“”—·")
                if len(run.split()) >= 3:
                    runs.add(run)
    return runs


ENGLISH = _english_sentences()


def left_in_english(html: str) -> list[str]:
    text = visible_text(html)
    return sorted(run for run in ENGLISH if run in text)


@pytest.fixture
def ru_app(sandbox_server, tmp_path, request):
    return create_app(desk_config(sandbox_server.url, tmp_path, **desk_in("ru"),
                                  ORDER_RATE_LIMIT="100 per minute", **timeouts_of(request)))


@pytest.fixture
def ru(ru_app):
    return sign_in(ru_app.test_client())


def order(**fields):
    data = {"customer_email": "ivan@example.com", "products-0-good_name": DIGITAL["good_name"]}
    data.update({k.replace("__", "-"): v for k, v in fields.items()})
    return data


def assert_russian(response, *, status=None, expect=()):
    html = response.get_data(as_text=True)
    if status is not None:
        assert response.status_code == status, html[:2000]
    assert left_in_english(html) == []
    assert unmarked_english(html) == []
    for words in expect:  # it is the page meant, and it is in Russian
        assert words in html
    return html


def test_the_english_sentences_are_found_where_they_are_left():
    """The check itself: an English page is full of them."""
    assert "Paste details from an email or message" in ENGLISH
    assert left_in_english("<p>Paste details from an <b>email</b> or message</p>") == [
        "Paste details from an email or message"]
    assert left_in_english('<input placeholder="Name, email, phone and address lines, as they came">')
    assert unmarked_english("<p>Якобы <b>all translated</b> here, <code>but not this</code></p>") == [
        "all translated here"]


def test_the_order_page_and_its_regions(ru):
    assert_russian(ru.get("/"), status=200, expect=["Создать заказ", "Вставить данные из письма"])
    assert_russian(ru.get("/", headers=HX), status=200)
    assert_russian(ru.post("/summary", data=order(products__0__price="abc")), status=200,
                   expect=["неверная цена"])
    assert_russian(ru.post("/summary", data=order(products__0__price="10")), status=200, expect=["ваша цена"])
    assert_russian(ru.get("/products/search?q=zzzz"), status=200, expect=["Нет товаров по запросу"])
    assert_russian(ru.get(f"/products/search?q={DIGITAL['good_name']}"), status=200)
    assert_russian(ru.post("/phone-reading/customer_phone", data={"customer_phone": "+7 912 345-67-89"}),
                   status=200, expect=["Будет отправлен как +79123456789"])
    assert_russian(ru.post("/phone-reading/customer_phone", data={"customer_phone": "8 912"}), status=200,
                   expect=["Введите номер с +"])
    added = ru.post("/", data=order(action="add"), headers=HX)
    assert_russian(added, status=200, expect=["Удалить строку 2"])
    for n in range(2, 5):
        many = {f"products-{i}-good_name": "" for i in range(n)}
        assert_russian(ru.post("/", data=order(action="add", **many)), status=200)


def test_an_order_with_errors(ru):
    response = ru.post("/", data=order(
        customer_email="not-an-email", customer_phone="12", products__0__price="12x",
        products__1__good_name=DIGITAL["good_name"], products__2__good_name="no-such",
        products__3__good_name=PHYSICAL["good_name"], order_created_at="2999-01-01 10:00",
        order_paid_at="yesterday", order_tag="a,b", affiliates="a,,b", order_ip="1.2.3",
        coupon="x", order_sales_manager="y", customer_first_name="A\u202eB",
        billing_same_as_shipping="y", customer_billing_city="Тула"))
    html = assert_russian(response, status=422, expect=["Проверьте", "В JustClick ничего не отправлено"])
    assert "товар с доставкой" in html and "Введите цену числом" in html


def test_a_created_order_its_invoice_and_the_message_to_the_customer(ru):
    created = ru.post("/", data=order(customer_first_name="Иван"))
    assert created.status_code == 303
    attempt = created.headers["Location"]
    assert_russian(ru.get(attempt), status=200, expect=["Заказ создан в JustClick", "Отправлено в JustClick"])
    entry_id = attempt.rstrip("/").split("/")[-1]
    found = assert_russian(ru.get(f"/attempts/{entry_id}/invoice", headers=HX), status=200,
                           expect=["Сумма к оплате", "Здравствуйте, Иван!"])
    assert "Копировать ссылку" in found
    assert_russian(ru.post(f"/attempts/{entry_id}/invoice"), status=200, expect=["Обновить статус"])
    assert_russian(ru.get(f"/attempts/{entry_id}/payment-status"), status=200)

    # the same order again: the desk asks first
    again = ru.post("/", data=order(customer_first_name="Иван"))
    assert_russian(again, status=409, expect=["Похоже, этот заказ только что создан", "Всё равно создать"])
    hx = ru.post("/", data=order(customer_first_name="Иван"), headers=HX)
    assert_russian(hx, status=409)
    sent = ru.post("/", data=order(customer_email="petr@example.com"), headers=HX)
    assert_russian(sent, status=200, expect=["Начать новый заказ"])


@pytest.mark.parametrize(("email", "status", "expect"), [
    ("error-600@sandbox.test", 422, ["JustClick отклонил заказ", "JustClick отклонил email клиента."]),
    ("error-605@sandbox.test", 422, ["Проверьте поля:"]),
    ("unknown@sandbox.test", 422, ["Ошибка 777:"]),
    pytest.param("slow@sandbox.test", 502,
                 ["Заказ мог быть создан, а мог и нет", "JustClick не ответил за 1 с."],
                 marks=pytest.mark.gives_up_soon),
    ("down@sandbox.test", 502, ["HTML-страницей"]),
    ("redirect@sandbox.test", 502, ["перенаправил запрос"]),
    ("broken@sandbox.test", 502, ["не в формате JSON"]),
])
def test_orders_that_were_not_created(ru, email, status, expect):
    html = assert_russian(ru.post("/", data=order(customer_email=email)), status=status,
                          expect=expect)
    assert "Создать заказ" in html  # the form is back, in Russian
    # and the attempt's own page, and the history, say it too
    assert_russian(ru.get("/history"), status=200, expect=["История заказов"])


def test_an_unreachable_justclick(tmp_path):
    """Nothing listens there: the lists and the order both fail, in Russian."""
    app = create_app(desk_config("http://127.0.0.1:9/api/", tmp_path, **desk_in("ru")))
    client = sign_in(app.test_client())
    html = assert_russian(client.get("/"), status=200, expect=["Не удалось загрузить товары из JustClick"])
    assert "введите ID менеджера вручную" in html
    sent = client.post("/", data=order())
    assert_russian(sent, status=502, expect=["Не удалось связаться с JustClick."])


def test_a_doubt_a_paste_and_the_rate_limit(ru, sandbox_server, tmp_path):
    assert_russian(ru.post("/", data=order(order_status="Paid")), status=409,
                   expect=["Проверьте перед отправкой", "Отправить как есть"])
    pasted = ru.post("/", data=order(action="paste", customer_email="",
                                     paste_text="Иван Петров\nivan@example.com\n+7 912 345-67-89"))
    assert_russian(pasted, status=200, expect=["Из вставленного текста заполнено"])
    nothing = ru.post("/", data=order(action="paste", paste_text="…"))
    assert_russian(nothing, status=200, expect=["не нашлось ничего"])

    limited = sign_in(create_app(desk_config(sandbox_server.url, tmp_path / "limited", **desk_in("ru"),
                                             ORDER_RATE_LIMIT="1 per minute")).test_client())
    assert limited.post("/", data=order()).status_code == 303
    assert_russian(limited.post("/", data=order(customer_email="other@example.com")), status=429,
                   expect=["слишком много заказов"])


def test_history_pages_and_panel(ru):
    assert_russian(ru.get("/history"), status=200, expect=["В этом сеансе заказы ещё не отправлялись."])
    ru.post("/", data=order())
    ru.post("/", data=order(customer_email="error-600@sandbox.test"))
    assert_russian(ru.get("/history"), status=200, expect=["Отклонён JustClick", "Выгрузить CSV"])
    assert_russian(ru.get("/history?outcome=rejected", headers=HX), status=200)
    assert_russian(ru.get("/history?outcome=exists", headers=HX), status=200,
                   expect=["Попыток с таким результатом нет."])
    assert_russian(ru.get("/history/panel"), status=200, expect=["Этот сеанс"])
    assert_russian(ru.get("/history/clear"), status=200, expect=["Из истории будут удалены все 2 попытки."])


def test_sign_in_and_error_pages(ru_app, ru):
    anonymous = ru_app.test_client()
    assert_russian(anonymous.get("/login"), status=200, expect=["Вход в Order Desk"])
    wrong = anonymous.post("/login", data={"username": "alice", "password": "nope"})
    assert_russian(wrong, expect=["Неверное имя пользователя или пароль."])
    empty = anonymous.post("/login", data={"username": "", "password": ""})
    assert_russian(empty, expect=["Введите имя пользователя."])
    assert_russian(ru.get("/nowhere"), status=404, expect=["По этому адресу ничего нет."])
    assert_russian(ru.get("/nowhere", headers=HX), status=404)
    assert_russian(ru.post("/", data=order(note="n" * 600_000)), status=413, expect=["512 КБ"])
    assert_russian(ru.delete("/history"), status=405)
    signed_out = ru.post("/logout", follow_redirects=True)
    assert_russian(signed_out, status=200, expect=["Вы вышли из программы."])


def test_the_sandbox_pages(tmp_path):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "INSTANCE_PATH": str(tmp_path),
                      **desk_in("ru")})
    client = app.test_client()
    assert_russian(client.get("/login"), status=200, expect=["войдите как <code>demo</code>"])
    sign_in(client, "demo", "demo")
    assert_russian(client.get("/sandbox"), status=200, expect=["Песочница пока не приняла ни одного заказа."])
    created = client.post("/", data=order())
    assert_russian(client.get(created.headers["Location"]), status=200, expect=["Заказ создан в песочнице"])
    assert_russian(client.get("/"), status=200, expect=["Режим песочницы:"])
    assert_russian(client.get("/sandbox"), status=200, expect=["Тестовые адреса", "заказ не создаётся"])



@pytest.mark.gives_up_soon
def test_an_earlier_unclear_attempt_is_described_in_russian(ru):
    """The confirm banner reads the team-wide index: the desk's words it keeps are said again."""
    assert ru.post("/", data=order(customer_email="slow@sandbox.test")).status_code == 502
    again = ru.post("/", data=order(customer_email="slow@sandbox.test"))
    assert_russian(again, status=409,
                   expect=["Сначала проверьте JustClick", "(JustClick не ответил за 1 с.)"])


@pytest.mark.gives_up_soon
def test_an_unclear_attempt_found_in_justclick_is_still_described_in_russian(ru, sandbox_server):
    """Settled as created, the attempt keeps the desk's words for what happened first (a timeout)."""
    assert ru.post("/", data=order(customer_email="slow@sandbox.test")).status_code == 502
    entry_id = re.search(r'href="/attempts/([0-9a-f]{12})"', ru.get("/history").get_data(as_text=True))[1]
    assert "Счёт" in ru.post(f"/attempts/{entry_id}/invoice").get_data(as_text=True)  # found: created
    assert_russian(ru.get(f"/attempts/{entry_id}"), status=200, expect=["(JustClick не ответил за 1 с.)"])


def _envelope(result=None, code=0, text="OK"):
    return {"error_code": code, "error_text": text, "result": [] if result is None else result,
            "hash": reply_hash(code, text)}


@pytest.mark.parametrize(("outcome", "bills", "expect"), [
    ("created", _envelope(code=400, text="Order not found"), ["В JustClick этого счёта пока нет."]),
    ("unknown", _envelope(code=400, text="Order not found"), ["В JustClick этого заказа пока нет"]),
    ("created", _envelope(code=4, text="Wrong hash"), ["Не удалось найти счёт:",
                                                       "JustClick не принял подпись",
                                                        "(JustClick ответил ошибкой 4: Wrong hash)"]),
    ("unknown", _envelope({"10401": "garbage"}), ["Программа не может прочитать",
                                                   "Заказ мог быть создан, а мог и нет: проверьте"]),
])
def test_the_invoice_region_in_each_state(httpserver, tmp_path, outcome, bills, expect):
    justclick = answer_lists(httpserver)
    if outcome == "created":
        justclick.expect_request("/api/createorder").respond_with_json(_envelope())
    else:
        justclick.expect_request("/api/createorder").respond_with_data("<html>502</html>", status=502)
    justclick.expect_request("/api/GetBills").respond_with_json(bills)
    app = create_app(desk_config(httpserver.url_for("/api/"), tmp_path, **desk_in("ru")))
    client = sign_in(app.test_client())
    response = client.post("/", data=order())
    entry_id = (response.headers["Location"].rsplit("/", 1)[1] if outcome == "created"
                else re.search(r'/attempts/(\w+)/invoice', response.get_data(as_text=True))[1])
    for tries in (1, 99):  # looking by itself, then having looked as often as it does
        region = client.get(f"/attempts/{entry_id}/invoice", query_string={"try": tries}, headers=HX)
        assert_russian(region, status=200, expect=expect)
    assert_russian(client.get(f"/attempts/{entry_id}"), status=200)


def test_a_paused_sign_in(sandbox_server, tmp_path):
    client = create_app(desk_config(sandbox_server.url, tmp_path, SIGN_IN_DELAY=0.01,
                                    **desk_in("ru"))).test_client()
    for _ in range(5):
        assert client.post("/login", data={"username": "alice", "password": "nope"}).status_code == 401
    paused = client.post("/login", data={"username": "alice", "password": OPERATOR["password"]})
    assert_russian(paused, status=429, expect=["Слишком много неудачных попыток входа"])


def test_many_orders_from_a_table(ru):
    assert_russian(ru.get("/bulk"), status=200, expect=["Проверить таблицу"])
    assert_russian(ru.post("/bulk", data={"paste": ""}), expect=["Вставьте ячейки таблицы"])
    table = "\n".join(["E-mail\tТовар\tЦена\tЗаметка", f"anna@example.com\t{DIGITAL['good_name']}\t1 500\t",
                       f"not-an-email\t{DIGITAL['good_name']}\t\t"]) + "\n"
    brought = ru.post("/bulk", data={"paste": table})
    assert brought.status_code == 303
    preview = brought.headers["Location"]
    assert_russian(ru.get(preview), status=200, expect=["Отправить 1 заказ", "1 строке есть ошибки"])
    result = ru.post(preview + "/send")  # without JavaScript: one row a press
    while result.status_code == 303:
        result = ru.get(result.headers["Location"]) if "send" not in result.headers["Location"] else \
            ru.post(result.headers["Location"])
    assert_russian(result, status=200)
    assert_russian(ru.get(preview), status=200, expect=["Отправлено строк: 1 из 1."])


def test_request_body_refusals_in_the_operators_language(sandbox_server, tmp_path):
    """A file where text belongs and a form that is not UTF-8: said in the operator's own language
    (their TEAM_USERS locale), though the desk and the browser speak English."""
    from io import BytesIO

    team = {name: {**entry, "locale": "ru"} for name, entry in TEAM_USERS.items()}
    client = sign_in(create_app(desk_config(sandbox_server.url, tmp_path, TEAM_USERS=team)).test_client())
    with_file = client.post("/", data={**order(), "note": (BytesIO(b"a note"), "note.txt")},
                            content_type="multipart/form-data")
    assert_russian(with_file, status=400, expect=["не принимает файлы"])
    cp1251 = b"customer_email=a%40example.com&customer_first_name=" + "Пётр".encode("cp1251")
    unreadable = client.post("/", data=cp1251, content_type="application/x-www-form-urlencoded")
    assert_russian(unreadable, status=400, expect=["UTF-8"])
    assert sandbox_server.book.all() == []
