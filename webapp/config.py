"""Every setting, read from the environment in one place and checked at start-up."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.numbers import list_currencies


class ConfigError(Exception):
    """The environment cannot start the desk; the message says what to set."""


#: A session outlives its sign-in by this much, so that an order typed as the sign-in ended is still
#: there, in the session that names its operator, after signing in again.
SESSION_KEPT_AFTER_SIGN_IN_HOURS = 12

SANDBOX_API_URL = "http://sandbox.invalid/api/"
SANDBOX_API_KEY = "sandbox-key"

#: The languages the desk speaks, the first being the default's default.
LANGUAGES = ("en", "ru")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.") from None
    if value <= minimum:
        raise ConfigError(f"{name} must be greater than {minimum:g}.")
    return value


#: How werkzeug's generate_password_hash writes a hash: method (with its parameters), salt, hash.
PASSWORD_HASH = re.compile(r"(scrypt(?::(\d+):\d+:\d+)?|pbkdf2(?::(\w+)(?::\d+)?)?)\$[^$]+\$[0-9a-f]+")
MAX_USERNAME = 64  # the sign-in form's limit


def _team_users(raw: str) -> dict:
    if not raw.strip():
        return {}
    try:
        users = json.loads(raw, object_pairs_hook=_no_duplicate_names)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"TEAM_USERS is not valid JSON: {exc.msg}.") from None
    if not isinstance(users, dict):
        raise ConfigError('TEAM_USERS must map each username to {"password_hash": ..., '
                          '"manager_id": optional, "name": optional}.')
    for username, user in users.items():
        _check_team_user(username, user)
    return users


def _no_duplicate_names(pairs: list) -> dict:
    """json.loads keeps the last of two equal keys; for usernames that would hide an account."""
    seen = {}
    for key, _value in pairs:
        if key.casefold() in seen:
            raise ConfigError(f"TEAM_USERS names {seen[key.casefold()]!r} twice (as {key!r} too); "
                              "usernames are compared without case.")
        seen[key.casefold()] = key
    return dict(pairs)


def _check_team_user(username: str, user) -> None:
    """Every entry must be able to sign in; the message names the entry, never its hash."""
    if not username or username != username.strip() or len(username) > MAX_USERNAME:
        raise ConfigError(f"TEAM_USERS username {username!r} cannot sign in: use 1 to {MAX_USERNAME} "
                          "characters without spaces around them.")
    if not isinstance(user, dict):
        raise ConfigError(f'TEAM_USERS entry {username!r} must be {{"password_hash": ...}}.')
    password_hash = user.get("password_hash")
    if not isinstance(password_hash, str) or not _known_hash(password_hash):
        raise ConfigError(f"TEAM_USERS entry {username!r} has no password_hash the desk can check: make "
                          "one with `flask --app webapp hash-password`.")
    manager_id = user.get("manager_id")
    if manager_id is not None and not str(manager_id).isdigit():
        raise ConfigError(f"TEAM_USERS entry {username!r}: manager_id must be a number.")
    if user.get("name") is not None and not isinstance(user["name"], str):
        raise ConfigError(f"TEAM_USERS entry {username!r}: name must be text.")
    if user.get("locale") is not None and user["locale"] not in LANGUAGES:
        raise ConfigError(f"TEAM_USERS entry {username!r}: locale must be {' or '.join(LANGUAGES)}.")


def _known_hash(password_hash: str) -> bool:
    match = PASSWORD_HASH.fullmatch(password_hash)
    if not match:
        return False
    scrypt_n, pbkdf2_digest = match[2], match[3]
    if scrypt_n is not None and (int(scrypt_n) < 2 or int(scrypt_n) & (int(scrypt_n) - 1)):
        return False  # scrypt's cost must be a power of 2
    return pbkdf2_digest is None or pbkdf2_digest in hashlib.algorithms_available


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name} {value!r} is neither on nor off.")
    return value in ("on", "true", "1", "yes")


#: One label of a host name (IDNA-encoded), and a host name of such labels.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def _payment_link_hosts(raw: str) -> tuple[str, ...]:
    """PAYMENT_LINK_HOSTS: host names, comma-separated, where the account's payment pages may also be.
    `.example.com` or `*.example.com` means example.com and its subdomains; kept as `.example.com`."""
    hosts = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        subdomains = item.startswith((".", "*."))
        name = item.removeprefix("*").removeprefix(".") if subdomains else item
        try:
            name = name.encode("idna").decode("ascii").lower()  # as browsers write a host
        except UnicodeError:
            name = ""
        if not HOST_NAME.fullmatch(name):
            raise ConfigError(f"PAYMENT_LINK_HOSTS: {item!r} is not a host name. List host names separated "
                              "by commas, such as pay.example.com, or .example.com for a domain and its "
                              "subdomains (no scheme, port or path).")
        if subdomains and "." not in name:
            raise ConfigError(f"PAYMENT_LINK_HOSTS: {item!r} would take every site under .{name} as the "
                              "account's: name the account's own domain.")
        hosts.append(f".{name}" if subdomains else name)
    return tuple(hosts)


def load_config(env: Mapping[str, str]) -> dict:
    """Flask config values from the environment; raises ConfigError naming what is wrong."""
    username = env.get("JUSTCLICK_USERNAME", "").strip()
    api_key = env.get("JUSTCLICK_API_KEY", "").strip()
    secret_key = env.get("SECRET_KEY", "").strip()
    sandbox = not username and not api_key

    missing = []
    if not sandbox:
        if not username:
            missing.append("JUSTCLICK_USERNAME")
        if not api_key:
            missing.append("JUSTCLICK_API_KEY")
        if not secret_key:
            missing.append("SECRET_KEY")
    if missing:
        raise ConfigError(
            "Cannot start: set " + ", ".join(missing) + ". Leave both JustClick credentials "
            "unset to run in sandbox mode."
        )

    region = env.get("DEFAULT_PHONE_REGION", "").strip().upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"DEFAULT_PHONE_REGION {region!r} is not a known region code.")
    timezone = env.get("ACCOUNT_TIMEZONE", "").strip()
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"ACCOUNT_TIMEZONE {timezone!r} is not a known time zone.") from None

    language = env.get("DEFAULT_LOCALE", "").strip() or LANGUAGES[0]
    if language not in LANGUAGES:
        raise ConfigError(f"DEFAULT_LOCALE {language!r} is not a language the desk speaks: use "
                          f"{' or '.join(LANGUAGES)}.")
    currency = env.get("ACCOUNT_CURRENCY", "").strip().upper() or "RUB"
    if currency not in list_currencies():
        raise ConfigError(f"ACCOUNT_CURRENCY {env['ACCOUNT_CURRENCY'].strip()!r} is not an ISO 4217 currency "
                          "code such as RUB, USD or EUR.")

    team_users = _team_users(env.get("TEAM_USERS", ""))
    if not sandbox and not team_users:
        raise ConfigError("Cannot start: set TEAM_USERS; a desk that reaches a real shop needs sign-in.")

    return {
        "SANDBOX": sandbox,
        # Sandbox mode without one: create_app keeps a generated key in the instance folder.
        "SECRET_KEY": secret_key or None,
        "JUSTCLICK_USERNAME": username or "sandbox",
        "JUSTCLICK_API_KEY": api_key or SANDBOX_API_KEY,
        "JUSTCLICK_API_URL": (
            env.get("JUSTCLICK_API_URL", "").strip()
            or (SANDBOX_API_URL if sandbox else f"https://{username}.justclick.io/api/")
        ),
        "JUSTCLICK_TIMEOUT": _number(env, "JUSTCLICK_TIMEOUT", 30.0),
        "JUSTCLICK_CONNECT_TIMEOUT": _number(env, "JUSTCLICK_CONNECT_TIMEOUT", 5.0),
        "CATALOG_TTL": _number(env, "CATALOG_TTL", 600.0),
        # The sandbox stands in for a Russian shop: its numbers are typed "8 912 …", its clocks on Moscow
        # time. A real shop's desk guesses neither (a wrong region sends a wrong number).
        "DEFAULT_PHONE_REGION": region or ("RU" if sandbox else None),
        "ACCOUNT_TIMEZONE": timezone or ("Europe/Moscow" if sandbox else None),
        "ACCOUNT_CURRENCY": currency,
        "PAYMENT_LINK_HOSTS": _payment_link_hosts(env.get("PAYMENT_LINK_HOSTS", "")),
        "DEFAULT_LOCALE": language,
        "TEAM_USERS": team_users,
        "REDIS_URL": env.get("REDIS_URL", "").strip() or None,
        "SESSION_LIFETIME_HOURS": _number(env, "SESSION_LIFETIME_HOURS", 12.0),
        "HISTORY_LIMIT": int(_number(env, "HISTORY_LIMIT", 500, minimum=0)),
        "ORDER_RETENTION_DAYS": _number(env, "ORDER_RETENTION_DAYS", 90.0),
        "ORDER_RATE_LIMIT": env.get("ORDER_RATE_LIMIT", "").strip() or "20 per minute",
        "PROXY_HOPS": int(_number(env, "PROXY_HOPS", 1, minimum=-1)),
        # While the order index remembers less than the duplicate window, ask JustClick before sending.
        "GUARD_ASKS_JUSTCLICK": _switch(env, "GUARD_ASKS_JUSTCLICK", True),
    }
