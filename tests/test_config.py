"""Settings from the environment: sandbox mode, and a refusal that names what is missing."""

import json

import pytest

from webapp import create_app
from webapp.config import SANDBOX_API_URL, ConfigError, load_config

TEAM = json.dumps({"alice": {"password_hash": "scrypt:x", "manager_id": 71257}})


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
])
def test_bad_values_are_named(env, words):
    with pytest.raises(ConfigError, match=words):
        load_config(env)


def test_the_app_refuses_to_start_with_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setenv("JUSTCLICK_USERNAME", "myshop")
    with pytest.raises(SystemExit) as caught:
        create_app({"INSTANCE_PATH": str(tmp_path)})
    assert "JUSTCLICK_API_KEY" in str(caught.value) and "SECRET_KEY" in str(caught.value)


def test_sandbox_mode_keeps_one_generated_secret_for_every_worker_and_restart(tmp_path):
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert len(first.config["SECRET_KEY"]) == 64
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert create_app({"INSTANCE_PATH": str(tmp_path / "other")}).config["SECRET_KEY"] != \
        first.config["SECRET_KEY"]
