"""Which language a page speaks: the operator's switch, their TEAM_USERS entry, the browser, the default."""

import re

import pytest
from werkzeug.security import generate_password_hash

from tests.support.desk import TEAM_USERS, desk_config, sign_in
from webapp import create_app

RUSSIAN_BROWSER = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}
GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9"}
#: A second operator whose TEAM_USERS entry says Russian.
OLGA = {"username": "olga", "password": "olga's password 9"}
TEAM = {**TEAM_USERS, "olga": {"password_hash": generate_password_hash(OLGA["password"]), "name": "Ольга",
                               "locale": "ru"}}


def page_language(response) -> str:
    return re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))[1]


@pytest.fixture
def make_desk(sandbox_server, tmp_path):
    def make(**overrides):
        return create_app(desk_config(sandbox_server.url, tmp_path, TEAM_USERS=TEAM, **overrides))
    return make


@pytest.fixture
def desk(make_desk):
    return make_desk()


def browser(desk, headers=None):
    """A test client that sends `headers` with every request, as a browser does its Accept-Language."""
    client = desk.test_client()
    client.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()})
    return client


def olga(desk, headers=None):
    return sign_in(browser(desk, headers), **OLGA)


def alice(desk, headers=None):
    return sign_in(browser(desk, headers))


# --- the sign-in page: the browser, then DEFAULT_LOCALE -------------------------------------------


@pytest.mark.parametrize("headers, language", [
    (RUSSIAN_BROWSER, "ru"), (ENGLISH_BROWSER, "en"), (GERMAN_BROWSER, "en"), ({}, "en"),
    # A regional Russian preferred to plain English: Russian, though only English matches exactly.
    ({"Accept-Language": "ru-RU,en;q=0.1"}, "ru"), ({"Accept-Language": "de,RU-ru;q=0.5"}, "ru"),
    ({"Accept-Language": "uk,ru;q=0.8,en;q=0.5"}, "ru"), ({"Accept-Language": "*"}, "en"),
])
def test_the_sign_in_page_follows_the_browser(desk, headers, language):
    response = desk.test_client().get("/login", headers=headers)
    assert page_language(response) == language
    assert "Accept-Language" in response.headers["Vary"]  # a cache must not hand it to another browser


@pytest.mark.parametrize("headers, language", [(GERMAN_BROWSER, "ru"), ({}, "ru"), (ENGLISH_BROWSER, "en")])
def test_default_locale_speaks_when_the_browser_asks_for_nothing_the_desk_has(make_desk, headers, language):
    desk = make_desk(DEFAULT_LOCALE="ru")
    assert page_language(desk.test_client().get("/login", headers=headers)) == language


def test_the_sign_in_page_has_the_switch_and_a_choice_made_there_is_kept_at_sign_in(desk):
    client = browser(desk, ENGLISH_BROWSER)
    page = client.get("/login?next=/history").get_data(as_text=True)
    # Links, not a form: nobody is signed in to keep a choice for, so the choice travels in the address.
    switch = re.search(r'<nav[^>]*aria-label="Language"[^>]*>.*?</nav>', page, re.S)[0]
    assert re.search(r'<a href="/login\?lang=ru&amp;next=/history" lang="ru"[^>]*>Русский</a>', switch)
    russian = client.get("/login?lang=ru&next=/history")
    assert page_language(russian) == "ru"
    page = russian.get_data(as_text=True)
    assert 'action="/login?lang=ru"' in page and 'name="next" type="hidden" value="/history"' in page
    refused = client.post("/login?lang=ru", data={"username": "alice", "password": "wrong"})
    assert page_language(refused) == "ru"
    sign_in(client, path="/login?lang=ru")
    assert page_language(client.get("/")) == "ru"  # the choice made before signing in is the operator's
    client.post("/logout")
    assert page_language(sign_in(browser(desk, ENGLISH_BROWSER)).get("/")) == "ru"  # and kept


# --- signed in: switch, then TEAM_USERS, then the browser, then DEFAULT_LOCALE ---------------------


def test_without_choices_a_signed_in_page_follows_the_browser(desk):
    client = alice(desk, RUSSIAN_BROWSER)
    response = client.get("/")
    assert page_language(response) == "ru"
    assert "Accept-Language" in response.headers["Vary"]


def test_the_team_users_locale_beats_the_browser(desk):
    client = olga(desk, ENGLISH_BROWSER)
    response = client.get("/")
    assert page_language(response) == "ru"
    assert "Accept-Language" not in response.headers.get("Vary", "")  # the browser played no part


def test_the_switch_beats_team_users_and_returns_to_the_same_page(desk):
    client = olga(desk, RUSSIAN_BROWSER)
    page = client.get("/history").get_data(as_text=True)
    # The switch is a plain form in the header: both languages, each named in its own language.
    assert re.search(r'<form method="post" action="/language"', page)
    assert re.search(r'<button type="submit" name="locale" value="en" lang="en"[^>]*>English</button>', page)
    assert re.search(r'value="ru" lang="ru"[^>]* aria-current="true">Русский</button>', page)
    response = client.post("/language", data={"locale": "en", "next": "/history?outcome=rejected"})
    assert response.status_code == 303 and response.headers["Location"] == "/history?outcome=rejected"
    assert page_language(client.get("/history")) == "en"


def test_a_choice_the_store_cannot_keep_is_said_and_the_page_comes_back(desk, tmp_path):
    client = alice(desk, ENGLISH_BROWSER)
    folder = tmp_path / "instance" / "preferences"
    assert folder.is_dir()
    folder.rmdir()
    folder.write_text("not a folder")  # every read and write of a choice now fails
    response = client.post("/language", data={"locale": "ru", "next": "/history"})
    assert response.status_code == 303 and response.headers["Location"] == "/history"
    page = client.get("/history").get_data(as_text=True)
    assert "could not be kept" in page
    assert page_language(client.get("/history")) == "en"  # the browser's, as before


def test_the_choice_survives_signing_out_and_in_again_and_reaches_every_instance(make_desk):
    first = make_desk()
    client = alice(first)
    client.post("/language", data={"locale": "ru", "next": "/"})
    client.post("/logout")
    assert page_language(sign_in(client).get("/")) == "ru"
    # Another instance sharing the store (here: the instance folder) knows it as well.
    other = make_desk()
    assert page_language(alice(other, ENGLISH_BROWSER).get("/")) == "ru"
    # and it is that operator's choice only
    assert page_language(olga(other, ENGLISH_BROWSER).get("/")) == "ru"  # from her entry
    assert page_language(olga(other).get("/")) == "ru"
    olga_client = olga(other)
    olga_client.post("/language", data={"locale": "en", "next": "/"})
    assert page_language(alice(other).get("/")) == "ru"


def test_the_choice_is_kept_in_redis_across_instances(make_desk, redis_url):
    client = alice(make_desk(REDIS_URL=redis_url))
    client.post("/language", data={"locale": "ru", "next": "/"})
    assert page_language(alice(make_desk(REDIS_URL=redis_url), ENGLISH_BROWSER).get("/history")) == "ru"


@pytest.mark.parametrize("locale", ["de", "", "ru-RU"])
def test_a_language_the_desk_does_not_have_is_refused(desk, locale):
    client = alice(desk)
    response = client.post("/language", data={"locale": locale, "next": "/"})
    assert response.status_code == 400
    assert page_language(client.get("/")) == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "history"])
def test_the_switch_returns_only_to_the_desks_own_pages(desk, target):
    response = alice(desk).post("/language", data={"locale": "ru", "next": target})
    assert response.headers["Location"] == "/"


def test_the_switch_needs_the_forms_csrf_token(make_desk):
    from tests.auth.test_signin import signed_in_with_csrf

    client = signed_in_with_csrf(make_desk(WTF_CSRF_ENABLED=True))
    assert client.post("/language", data={"locale": "ru", "next": "/"}).status_code == 400
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'action="/language".*?name="csrf_token" value="([^"]+)"', page, re.S)[1]
    response = client.post("/language", data={"locale": "ru", "next": "/", "csrf_token": token})
    assert response.status_code == 303


def test_error_pages_speak_the_pages_language(desk):
    client = alice(desk, RUSSIAN_BROWSER)
    response = client.get("/attempts/nothing-here")
    assert response.status_code == 404 and page_language(response) == "ru"
    assert page_language(olga(desk).get("/no/such/page")) == "ru"


def test_signing_in_in_russian_lands_on_a_russian_page(desk):
    client = browser(desk, RUSSIAN_BROWSER)
    assert page_language(client.get("/login")) == "ru"
    assert page_language(sign_in(client).get("/")) == "ru"
