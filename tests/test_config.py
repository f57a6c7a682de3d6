"""Settings from the environment: sandbox mode, and a refusal that names what is missing."""

import json

import pytest
from werkzeug.security import generate_password_hash

from tests.support.desk import read_only
from webapp import create_app
from webapp.config import SANDBOX_API_URL, ConfigError, load_config

HASH = generate_password_hash("a password", method="pbkdf2:sha256:1000")
TEAM = json.dumps({"alice": {"password_hash": HASH, "manager_id": 71257}})
LIVE = {"JUSTCLICK_USERNAME": "myshop", "JUSTCLICK_API_KEY": "k", "SECRET_KEY": "s"}


def test_no_credentials_means_sandbox_mode():
    config = load_config({})
    assert config["SANDBOX"] is True
    assert config["JUSTCLICK_API_URL"] == SANDBOX_API_URL
    assert config["JUSTCLICK_TIMEOUT"] == 30.0
    assert config["SECRET_KEY"] is None  # create_app keeps one in the instance folder


def test_real_credentials_build_the_default_url():
    config = load_config({"JUSTCLICK_USERNAME": "myshop", "JUSTCLICK_API_KEY": "k", "SECRET_KEY": "s",
                          "TEAM_USERS": TEAM, "JUSTCLICK_TIMEOUT": "12.5"})
    assert config["SANDBOX"] is False
    assert config["JUSTCLICK_API_URL"] == "https://myshop.justclick.io/api/"
    assert config["JUSTCLICK_TIMEOUT"] == 12.5
    assert config["TEAM_USERS"]["alice"]["manager_id"] == 71257


def test_the_url_can_be_overridden_for_ru_accounts():
    config = load_config({"JUSTCLICK_USERNAME": "myshop", "JUSTCLICK_API_KEY": "k", "SECRET_KEY": "s",
                          "TEAM_USERS": TEAM, "JUSTCLICK_API_URL": "https://myshop.justclick.ru/api/"})
    assert config["JUSTCLICK_API_URL"] == "https://myshop.justclick.ru/api/"


@pytest.mark.parametrize("env, named", [
    ({"JUSTCLICK_USERNAME": "myshop"}, ["JUSTCLICK_API_KEY", "SECRET_KEY"]),
    ({"JUSTCLICK_API_KEY": "k", "SECRET_KEY": "s"}, ["JUSTCLICK_USERNAME"]),
    ({"JUSTCLICK_USERNAME": "myshop", "JUSTCLICK_API_KEY": "k"}, ["SECRET_KEY"]),
    ({"JUSTCLICK_USERNAME": "myshop", "JUSTCLICK_API_KEY": "k", "SECRET_KEY": "s"}, ["TEAM_USERS"]),
])
def test_half_configured_desks_refuse_to_start_naming_what_is_missing(env, named):
    with pytest.raises(ConfigError) as caught:
        load_config(env)
    for name in named:
        assert name in str(caught.value)


@pytest.mark.parametrize("env, words", [
    ({"JUSTCLICK_TIMEOUT": "soon"}, "JUSTCLICK_TIMEOUT must be a number"),
    ({"JUSTCLICK_TIMEOUT": "0"}, "JUSTCLICK_TIMEOUT must be greater than 0"),
    ({"DEFAULT_PHONE_REGION": "XX"}, "DEFAULT_PHONE_REGION"),
    ({"ACCOUNT_TIMEZONE": "Mars/Olympus"}, "ACCOUNT_TIMEZONE"),
    ({"TEAM_USERS": "{not json"}, "TEAM_USERS is not valid JSON"),
    ({"TEAM_USERS": '{"bob": {"password": "plain"}}'}, "password_hash"),
    ({"DEFAULT_LOCALE": "de"}, "DEFAULT_LOCALE 'de' is not a language the desk speaks: use en or ru"),
    ({"DEFAULT_LOCALE": "ru_RU"}, "DEFAULT_LOCALE 'ru_RU'"),
    ({"ACCOUNT_CURRENCY": "XYZ"}, "ACCOUNT_CURRENCY 'XYZ' is not an ISO 4217 currency code"),
    ({"ACCOUNT_CURRENCY": "руб"}, "ACCOUNT_CURRENCY 'руб'"),
])
def test_bad_values_are_named(env, words):
    with pytest.raises(ConfigError, match=words):
        load_config(env)


@pytest.mark.parametrize("team, named", [
    ('{"olga": {"password_hash": "md5$abc$0123abcd"}}', "olga"),
    ('{"olga": {"password_hash": 12345}}', "olga"),
    ('{"olga": {"password_hash": ["scrypt$a$b"]}}', "olga"),
    ('{"olga": {"password_hash": "scrypt:3:8:1$salt$0123abcd"}}', "olga"),
    ('{"olga": {"password_hash": "pbkdf2:nohash:1000$salt$0123abcd"}}', "olga"),
    ('{"olga": {"password_hash": "HASH", "manager_id": "boss"}}', "olga"),
    ('{"": {"password_hash": "HASH"}}', "''"),
    ('{" olga": {"password_hash": "HASH"}}', "' olga'"),
    ('{"%s": {"password_hash": "HASH"}}' % ("o" * 65), "o" * 65),
    ('{"olga": {"password_hash": "HASH"}, "olga": {"password_hash": "HASH"}}', "'olga' twice"),
    ('{"olga": {"password_hash": "HASH"}, "OLGA": {"password_hash": "HASH"}}', "'olga' twice"),
    ('{"olga": "HASH"}', "olga"),
    ('{"olga": {"password_hash": "HASH", "locale": "fr"}}', "'olga': locale must be en or ru"),
    ('{"olga": {"password_hash": "HASH", "locale": ["ru"]}}', "'olga': locale must be en or ru"),
])
def test_team_users_that_could_never_sign_in_stop_the_start_naming_the_entry_not_the_hash(team, named):
    with pytest.raises(ConfigError) as caught:
        load_config({**LIVE, "TEAM_USERS": team.replace("HASH", HASH)})
    assert named in str(caught.value)
    assert HASH not in str(caught.value) and "0123abcd" not in str(caught.value)


def test_team_users_with_every_kind_of_werkzeug_hash_start():
    team = {"a": {"password_hash": generate_password_hash("x")},
            "b": {"password_hash": generate_password_hash("x", method="scrypt:1024:8:1")},
            "c": {"password_hash": generate_password_hash("x", method="pbkdf2")},
            "d": {"password_hash": HASH, "manager_id": "71257", "name": "Dora", "locale": "ru"}}
    assert load_config({**LIVE, "TEAM_USERS": json.dumps(team)})["TEAM_USERS"] == team


def test_sandbox_mode_is_a_russian_shops_desk_and_each_part_can_be_changed():
    config = load_config({})
    assert (config["DEFAULT_PHONE_REGION"], config["ACCOUNT_TIMEZONE"]) == ("RU", "Europe/Moscow")
    config = load_config({"DEFAULT_PHONE_REGION": "de", "ACCOUNT_TIMEZONE": "Europe/Berlin"})
    assert (config["DEFAULT_PHONE_REGION"], config["ACCOUNT_TIMEZONE"]) == ("DE", "Europe/Berlin")
    # A desk that reaches a real shop guesses neither: a wrong region would send wrong numbers.
    live = load_config({**LIVE, "TEAM_USERS": TEAM})
    assert (live["DEFAULT_PHONE_REGION"], live["ACCOUNT_TIMEZONE"]) == (None, None)


def test_language_and_currency_default_to_english_and_roubles():
    config = load_config({})
    assert (config["DEFAULT_LOCALE"], config["ACCOUNT_CURRENCY"]) == ("en", "RUB")
    config = load_config({"DEFAULT_LOCALE": " ru ", "ACCOUNT_CURRENCY": "eur"})
    assert (config["DEFAULT_LOCALE"], config["ACCOUNT_CURRENCY"]) == ("ru", "EUR")


def test_payment_link_hosts_are_read_as_hosts_and_domains():
    assert load_config({})["PAYMENT_LINK_HOSTS"] == ()
    config = load_config({"PAYMENT_LINK_HOSTS": " Pay.Example.com, .school.example ,*.курсы.рф,"})
    assert config["PAYMENT_LINK_HOSTS"] == ("pay.example.com", ".school.example", ".xn--j1amdg6b.xn--p1ai")


@pytest.mark.parametrize("value, words", [
    ("https://pay.example.com", "'https://pay.example.com' is not a host name"),
    ("pay.example.com:443", "'pay.example.com:443' is not a host name"),
    ("pay.example.com/bill", "'pay.example.com/bill' is not a host name"),
    ("pay.example.com pay2.example.com", "is not a host name"),
    ("*example.com", "'*example.com' is not a host name"),
    ("*", "'*' is not a host name"),
    ("example..com", "'example..com' is not a host name"),
    ("-pay.example.com", "is not a host name"),
    (".com", "every site under .com"),
    ("*.ru", "every site under .ru"),
])
def test_a_malformed_payment_link_host_stops_the_start(value, words):
    with pytest.raises(ConfigError) as caught:
        load_config({"PAYMENT_LINK_HOSTS": value})
    assert str(caught.value).startswith("PAYMENT_LINK_HOSTS: ") and words in str(caught.value)


def test_the_app_refuses_to_start_with_a_plain_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("JUSTCLICK_USERNAME", "myshop")
    with pytest.raises(SystemExit) as caught:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert caught.value.code == 3  # gunicorn's "worker failed to boot": its master stops too
    message = capsys.readouterr().err
    assert message.startswith("Order Desk: ") and "JUSTCLICK_API_KEY" in message and "SECRET_KEY" in message


def test_an_instance_folder_the_desk_cannot_write_to_stops_the_start(tmp_path, capsys):
    instance = tmp_path / "instance"
    instance.mkdir()
    with read_only(instance), pytest.raises(SystemExit) as caught:
        create_app({"INSTANCE_PATH": str(instance), "WTF_CSRF_ENABLED": False})
    assert caught.value.code == 3
    message = capsys.readouterr().err
    assert f"cannot write to the instance folder {instance}" in message and "Traceback" not in message


def test_sandbox_mode_keeps_one_generated_secret_for_every_worker_and_restart(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) == 64
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert create_app({"INSTANCE_PATH": str(tmp_path / "other")}).config["SECRET_KEY"] != \
        first.config["SECRET_KEY"]


@pytest.mark.parametrize("store", ["orders", "sessions", "cache", "history", "tokens", "preferences", "bulk"])
def test_every_folder_a_store_writes_to_is_checked_at_the_start(tmp_path, capsys, store):
    """A read-only orders/ once started cleanly, and then every order answered 503."""
    from webapp import create_app as start

    instance = tmp_path / "instance"
    start({"INSTANCE_PATH": str(instance)})  # the folders exist, as after an earlier start
    with read_only(instance / store), pytest.raises(SystemExit) as caught:
        start({"INSTANCE_PATH": str(instance)})
    assert caught.value.code == 3
    message = capsys.readouterr().err
    assert f"cannot write to the instance folder {instance / store} " in message
