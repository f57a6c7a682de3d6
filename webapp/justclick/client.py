"""The JustClick API client: HTTP and JustClick's reply envelope, nothing of Flask.

Every call goes through `_call`, which always passes a timeout and turns every failure into one of
three exceptions. `createorder` has no idempotency key, so nothing here ever sends a request twice
once it may have reached JustClick.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote_plus, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from webapp.i18n.words import Words

log = logging.getLogger(__name__)

#: Every createorder field except rpsKey, in the order JustClick documents them.
CREATEORDER_FIELDS = (
    "customer_email", "customer_first_name", "customer_last_name", "customer_middle_name",
    "customer_phone", "order_ip",
    "customer_shipping", "customer_shipping_phone", "customer_shipping_address_2",
    "customer_shipping_city", "customer_shipping_state", "customer_shipping_zip",
    "customer_shipping_country_code",
    "customer_billing_address_1", "customer_billing_address_2", "customer_billing_city",
    "customer_billing_state", "customer_billing_zip", "customer_billing_country_code",
    "order_tag", "note", "order_created_at", "order_paid_at", "order_status", "order_confirmed",
    "order_sales_manager", "product_names", "product_prices", "payment_method", "coupon",
    "affiliates", "utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term",
)

# What an operator should know about each documented code; the verbatim text is always shown too.
# Said to a sales operator: what they can do, and what to ask the administrator where only they can act
# (no setting's name: the administrator knows where the desk's settings are).
CODE_HINTS = {
    2: Words("JustClick received no data, or this API method is switched off for the account. Ask your "
             "administrator to check that API 2.0 is enabled in JustClick."),
    3: Words("JustClick found a value it does not accept."),
    4: Words("JustClick refused the desk's API key, so no order can be sent until it is fixed. Ask your "
             "administrator to compare the desk's key with the one in JustClick's Integration and API "
             "settings."),
    5: Words("JustClick does not know the desk's account login. Ask your administrator to check it."),
    6: Words("JustClick does not accept requests from this server's address. Ask your administrator to "
             "allow it in JustClick's API settings."),
    7: Words("The JustClick account is disabled. Ask your administrator."),
    8: Words("JustClick's request limit for this address is exhausted. Wait a few minutes and send again. "
             "If it repeats, ask your administrator: on a new account it usually means JustClick support "
             "has yet to enable API 2.0."),
    600: Words("JustClick rejected the customer email."),
    601: Words("JustClick says this order already exists."),
    602: Words("JustClick could not create the order. Check the products and the customer's details and "
               "send again; if it repeats, ask JustClick support."),
    603: Words("The order has no products."),
    604: Words("A product does not exist in the shop."),
    605: Words("A physical product needs delivery data: fill in the shipping address."),
    700: Words("The shop has no products."),
}
# Codes about the order as typed (the operator can correct it), and about the account or its limits
# (nothing typed needs to change); an undocumented code is neither.
ORDER_CODES = frozenset({3, 600, 602, 603, 604, 605})
ACCOUNT_CODES = frozenset({2, 4, 5, 6, 7, 8})

# API 1.0 (signed) methods refuse for their own reasons: the signature, or 1.0 not being enabled.
SIGNED_CODE_HINTS = {
    **CODE_HINTS,
    1: Words("JustClick found no signature on the request. This is a fault in the desk: report it."),
    2: Words("JustClick received no data, or its API 1.0 is switched off for the account: ask your "
             "administrator to have JustClick support enable API 1.0."),
    4: Words("JustClick refused the request's signature. API 1.0 signs with the account login and the API "
             "key: ask your administrator to check both, and that API 1.0 is enabled."),
    8: Words("JustClick's request limit for this address is exhausted. Look again in a few minutes. If it "
             "repeats, ask your administrator: on a new account it usually means JustClick support has "
             "yet to enable API 1.0."),
    400: Words("JustClick has no such order."),
}


POOL_SIZE = 32


class JustClickError(Exception):
    """Base of every failure of a JustClick call."""

    #: True when the request may have reached JustClick and been acted on.
    may_have_reached = True


class Unavailable(JustClickError):
    """JustClick could not be reached, or did not answer in time."""

    def __init__(self, message: str, *, may_have_reached: bool):
        super().__init__(message)
        self.may_have_reached = may_have_reached


class Rejected(JustClickError):
    """JustClick answered with a non-zero error code."""

    may_have_reached = False  # it answered and said no

    def __init__(self, code: int, text: str, reply: dict, hints: dict = CODE_HINTS):
        super().__init__(f"JustClick error {code}: {text}")
        self.code = code
        self.text = text
        self.reply = reply
        self._hints = hints  # a code means something else from a signed 1.0 method

    @property
    def hint(self) -> str | None:
        return self._hints.get(self.code)


class BadResponse(JustClickError):
    """Something answered, but not with JustClick's envelope (an HTML page, broken JSON, a redirect)."""

    def __init__(self, message: str, *, status: int, body: str = ""):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Reply:
    code: int
    text: str
    result: object
    raw: dict = field(repr=False)


def php_urlencode(params: dict) -> str:
    """Encode like PHP's http_build_query: API 1.0 signs these exact bytes."""
    return urlencode(params, quote_via=quote_plus, safe="").replace("~", "%7E")


def spelled_any_way(secret: str) -> re.Pattern:
    """A pattern for `secret` however URL or JSON encoding wrote each of its characters: itself,
    %XX (either case; `+` for a space; the `%` itself maybe JSON-escaped), \\uXXXX (either case),
    or JSON's \\/ \\" \\\\. Mixed spellings within one key match too."""
    return re.compile("".join(_char_spellings(char) for char in secret))


def _char_spellings(char: str) -> str:
    percent = r"(?:%|\\u0025)"
    forms = [re.escape(char),
             "".join(percent + _any_case_hex(byte, 2) for byte in char.encode()),
             "".join(r"\\u" + _any_case_hex(unit, 4) for unit in _utf16_units(char))]
    forms += {" ": [r"\+"], "/": [r"\\/"], '"': [r'\\"'], "\\": [r"\\\\"]}.get(char, [])
    return f"(?:{'|'.join(forms)})"


def _any_case_hex(number: int, width: int) -> str:
    return "".join(f"[{d.lower()}{d}]" if d.isalpha() else d for d in f"{number:0{width}X}")


def _utf16_units(char: str) -> list[int]:
    encoded = char.encode("utf-16-be")  # a character beyond the BMP is a surrogate pair in JSON
    return [int.from_bytes(encoded[i:i + 2], "big") for i in range(0, len(encoded), 2)]


class JustClickClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        login: str = "",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self._api_key = api_key
        self._key_spellings = spelled_any_way(api_key)
        self.login = login
        self.timeout = (connect_timeout, timeout)
        self.session = session or requests.Session()
        #: JustClick's clock minus ours, in seconds, from the Date header of its latest reply (None
        #: before any): the invoice lookup places JustClick's times on the desk's clock with it.
        self.clock_offset: float | None = None
        # Only failures to connect are retried: those never reached JustClick. Read errors and
        # statuses are never retried, so a createorder that may have arrived is not sent again.
        retry = Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.2)
        # A pool as large as a worker's threads, so busy threads do not reconnect (TLS) per call.
        self.session.mount("https://", HTTPAdapter(max_retries=retry, pool_maxsize=POOL_SIZE))
        self.session.mount("http://", HTTPAdapter(max_retries=retry, pool_maxsize=POOL_SIZE))

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return f"<JustClickClient {self.base_url}>"

    # --- API 2.0 -------------------------------------------------------------------------------

    def create_order(self, params: dict) -> Reply:
        """Create an order (invoice). Raises on any failure; never retried here."""
        return self._call(
            "createorder", {"rpsKey": self._api_key, **params},
            log_detail=params.get("product_names", ""),
        )

    def get_goods(self) -> list[dict]:
        return self._list("getgoods")

    def get_coupons(self) -> list[dict]:
        return self._list("getcoupons")

    def get_managers(self) -> list[dict]:
        return self._list("getpersonalmanagers")

    # --- API 1.0, signed ---------------------------------------------------------------------

    def get_all_goods(self) -> list[dict]:
        """Goods with catalogue prices (`good_sum`); signed API 1.0, which API 2.0 lacks."""
        try:
            return self._list("GetAllGoods", signed=True)
        except Rejected as exc:
            if exc.code == 700:  # the shop has no products
                return []
            raise

    def sign(self, body: str) -> str:
        return hashlib.md5(f"{body}::{self.login}::{self._api_key}".encode()).hexdigest()

    def get_bills(self, email: str, pay_status: str | None = None) -> dict:
        """The customer's invoices, `{bill_id: {product_id: {good_name, good_title}}}`.

        `pay_status` filters: paid, waiting or cancel. An email without invoices (code 400) gives {}.
        """
        fields = {"email": email, **({"pay_status": pay_status} if pay_status else {})}
        try:
            result = self._signed("GetBills", fields).result
        except Rejected as exc:
            if exc.code == 400:
                return {}
            raise
        if result == []:  # PHP encodes an empty array as a list
            return {}
        if not isinstance(result, dict):
            raise BadResponse(Words("JustClick's GetBills reply holds no list of invoices."), status=200,
                              body=str(result)[:500])
        return result

    def get_order_details(self, bill_id: int | str, good_info: bool = True) -> dict | None:
        """One invoice's details (getOrderDetails); None when JustClick has no such order (code 400)."""
        fields = {"bill_id": str(bill_id), **({"good_info": "1"} if good_info else {})}
        try:
            result = self._signed("getOrderDetails", fields).result
        except Rejected as exc:
            if exc.code == 400:
                return None
            raise
        if not isinstance(result, dict):
            raise BadResponse(Words("JustClick's getOrderDetails reply holds no order."), status=200,
                              body=str(result)[:500])
        return result

    # --- transport ---------------------------------------------------------------------------

    def _list(self, method: str, *, signed: bool = False) -> list[dict]:
        if signed:
            reply = self._signed(method, {})
        else:
            reply = self._call(method, {"rpsKey": self._api_key})
        if not isinstance(reply.result, list):
            raise BadResponse(f"{method} returned no list", status=200, body=str(reply.raw)[:500])
        return reply.result

    def _signed(self, method: str, fields: dict) -> Reply:
        """An API 1.0 call: the hash signs the exact bytes sent before it, and goes last.
        Its reply is believed only when signed with the account's key, as JustClick's example checks."""
        body = php_urlencode(fields)
        signature = f"hash={self.sign(body)}"
        reply = self._call(method, None, raw_body=f"{body}&{signature}" if body else signature,
                           hints=SIGNED_CODE_HINTS)
        # Only a success reaches here: a refusal (Rejected) is acted on no further than "could not
        # look" or "not listed", so its code and text are shown whatever its hash says.
        self._verify(method, reply)
        return reply

    def _verify(self, method: str, reply: Reply) -> None:
        """An API 1.0 reply's hash: md5("{error_code}::{error_text}::{secret}"), lowercase hex.
        (API 2.0 replies are not checked: their hash is inferred from 1.0's, not documented.)"""
        sent = reply.raw.get("hash")
        expected = self._reply_hash(reply)
        if isinstance(sent, str) and expected is not None and hmac.compare_digest(sent.lower(), expected):
            return
        log.warning("justclick %s reply hash %s: the reply is not trusted", method,
                    "missing" if sent is None else "does not match")
        raise BadResponse(Words("JustClick's reply could not be verified: it is not signed with the "
                                "account's API key. Ask your administrator to check the desk's key; if it "
                                "is right, the reply did not come from JustClick."), status=200)

    def _reply_hash(self, reply: Reply) -> str | None:
        """The hash of the code as the integer sent and the text exactly as sent (PHP writes a
        missing text as ""); None for a text no signature could cover."""
        text = reply.raw.get("error_text")
        text = "" if text is None else text
        if not isinstance(text, str):
            return None
        return hashlib.md5(f"{reply.code}::{text}::{self._api_key}".encode()).hexdigest()

    def _call(self, method: str, fields: dict | None, *, raw_body: str | None = None,
              log_detail: str = "", hints: dict = CODE_HINTS) -> Reply:
        body = raw_body if raw_body is not None else php_urlencode(fields or {})
        started = time.perf_counter()
        status = code = None
        try:
            response = self.session.post(
                self.base_url + method,
                data=body.encode("utf-8"),
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,  # read the body ourselves, up to a limit
            )
            status = response.status_code
            self._note_clock(_last_date(response))
            _read_capped(response)
            reply = self._parse(response)
            code = reply.code
            if reply.code != 0:
                raise Rejected(reply.code, reply.text, reply.raw, hints)
            return reply
        except requests.ConnectionError as exc:
            if isinstance(exc, requests.ConnectTimeout) or not _reached(exc):
                raise Unavailable(Words("JustClick could not be reached."), may_have_reached=False) from None
            raise Unavailable(Words("The connection to JustClick broke off."),
                              may_have_reached=True) from None
        except requests.Timeout:
            raise Unavailable(Words("JustClick did not answer within %(seconds)s s.",
                                    seconds=format(self.timeout[1], "g")), may_have_reached=True) from None
        except requests.RequestException as exc:
            raise Unavailable(Words("The request failed: %(error)s.", error=type(exc).__name__),
                              may_have_reached=True) from None
        finally:
            log.info(
                "justclick %s http=%s code=%s ms=%d%s",
                method, status, code, (time.perf_counter() - started) * 1000,
                f" products={log_detail}" if log_detail else "",
            )

    def _note_clock(self, header: str | None) -> None:
        try:
            theirs = parsedate_to_datetime(header) if header else None
        except (TypeError, ValueError):
            theirs = None
        if theirs is None or theirs.tzinfo is None:
            return
        # A Date header counts whole seconds, cut down: the middle of that second is the best guess.
        self.clock_offset = (theirs - datetime.now(UTC)).total_seconds() + 0.5

    def _redact(self, text: str) -> str:
        """Blank the key out of anything kept from a reply: a proxy or an error text may echo it,
        as sent (URL-encoded) or JSON-escaped the way PHP does."""
        return self._key_spellings.sub("[rpsKey]", text) if self._api_key else text

    def _parse(self, response: requests.Response) -> Reply:
        status = response.status_code
        # UTF-8 whatever the Content-Type says: PHP often sends text/html without a charset, and
        # requests would then guess Latin-1 and garble every Cyrillic title.
        text = self._redact(response.content.decode("utf-8", errors="replace"))
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        envelope = body if _is_envelope(body) else None
        # A 302 carrying JustClick's envelope is its answer (a public client reads it so); it is
        # never followed. Any other redirect, or a 302 without the envelope, is not an answer.
        if 300 <= status < 400 and not (status == 302 and envelope is not None):
            raise BadResponse(
                Words("JustClick redirected the request (HTTP %(status)s) instead of answering.",
                      status=status),
                status=status, body=self._redact(response.headers.get("Location", "")),
            )
        if envelope is None:
            if body is not None:
                said = Words("JustClick answered HTTP %(status)s with a reply without an integer error code.",
                             status=status)
            elif "<html" in text[:500].lower():
                said = Words("JustClick answered HTTP %(status)s with an HTML page.", status=status)
            else:
                said = Words("JustClick answered HTTP %(status)s with a reply that is not JSON.",
                             status=status)
            raise BadResponse(said, status=status, body=text[:500])
        code = int(envelope["error_code"])
        if code == 0 and not (200 <= status < 300 or status == 302):
            # Success in the body, failure in the status: which of the two is true cannot be known.
            said = Words("JustClick answered HTTP %(status)s with a success reply: whether the call took "
                         "effect is unknown.", status=status)
            raise BadResponse(said, status=status, body=text[:500])
        return Reply(code, str(envelope.get("error_text", "")), envelope.get("result"), envelope)


#: An error code as JustClick writes it: an integer, or a string of one. Never a boolean.
ERROR_CODE = re.compile(r"-?[0-9]{1,9}")


def _is_envelope(body) -> bool:
    code = body.get("error_code") if isinstance(body, dict) else None
    return (not isinstance(code, bool) and isinstance(code, int | str)
            and ERROR_CODE.fullmatch(str(code)) is not None)


def _last_date(response: requests.Response) -> str | None:
    """The reply's Date header. A server in front of an app may write its own before the app's (both then
    arrive, and requests joins them with a comma): the last one is the app's."""
    raw = getattr(getattr(response, "raw", None), "headers", None)
    dates = raw.getlist("Date") if hasattr(raw, "getlist") else [response.headers.get("Date")]
    return dates[-1] if dates and dates[-1] else None


#: A reply larger than this is not JustClick's (its lists are kilobytes): stop reading it.
MAX_REPLY_BYTES = 5 * 1024 * 1024


def _read_capped(response: requests.Response) -> None:
    chunks, size = [], 0
    with response:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise BadResponse(Words("JustClick's reply was larger than %(size)s MB.",
                                        size=MAX_REPLY_BYTES // 2**20),
                                  status=response.status_code)
            chunks.append(chunk)
    response._content = b"".join(chunks)
    response._content_consumed = True


def _reached(exc: requests.ConnectionError) -> bool:
    """Whether a connection error came after the request was sent (so it may have arrived)."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 wraps it in MaxRetryError
    return not isinstance(reason, NewConnectionError | ConnectTimeoutError | NameResolutionError)
