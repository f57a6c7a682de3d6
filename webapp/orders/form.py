"""The desk's forms: field rules and the messages an operator sees beside each field.

Field names equal JustClick's createorder parameter names, so a form post reads like the API call.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
)
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    IPAddress,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from webapp.i18n.countries import country_choices, country_codes, current_language
from webapp.i18n.saying import say
from webapp.orders.order import (
    API_DATETIME,
    CREATEORDER_FIELDS,
    SHIPPING_TO_BILLING,
    ProductLine,
    build_params,
)
from webapp.orders.phones import PhoneError, read_phone, reading
from webapp.orders.prices import read_price
from webapp.orders.widgets import (
    BooleanField,
    HiddenField,
    StringField,
    TextAreaField,
    TextInput,
)
from webapp.web.csrf_mask import MaskedFormCSRF

NO_COUNTRY = SelectChoice("", _l("— none —"))  # countries: in the page language (__init__)
STATUS_CHOICES = [
    SelectChoice("", _l("— not set —")),
    SelectChoice("Expected", _l("Expected (awaiting payment)")),
    SelectChoice("Paid", _l("Paid")),
    SelectChoice("Cancel", _l("Cancelled")),
    SelectChoice("MoneyBack", _l("Money back")),
]
CONFIRMED_CHOICES = [SelectChoice("", _l("— not set —")), SelectChoice("Yes", _l("Yes")),
                     SelectChoice("No", _l("No"))]
#: How a time may be typed; the first is how the desk writes it back.
DATETIME_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"]
TIME_EXAMPLE = "2026-01-31 14:05"
# Where no account time zone is set, "the future" starts in the earliest zone on Earth, so an
# operator anywhere is never told that a time they just lived through has not happened yet.
EARLIEST_ZONE = ZoneInfo("Etc/GMT-14")
#: Years JustClick's date format can carry as the desk writes it (four digits) and that make sense.
YEARS = range(2000, 2101)

#: A product id typed while the list is unavailable: JustClick's slugs may be Cyrillic, but
#: product_names is comma-separated and an id has no spaces.
TYPED_PRODUCT = re.compile(r"^[^,\s]+$")
PRODUCT_KEY = re.compile(r"^products-(\d+)-(good_name|price)$")
LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
MAX_PRICE = Decimal("100000000")
MAX_LINES = 100
PHONE_FIELDS = ("customer_phone", "customer_shipping_phone")

#: Characters that reorder text on screen (bidi embeddings, overrides, isolates): a name holding one
#: reads differently from what it is. With the control characters, never sent to JustClick.
DIRECTION_MARKS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: A status at odds with the paid date is asked about, not refused: it may be meant that way.
STATUS_DOUBTS = {
    "paid-without-date": _l("The status is Paid but there is no paid date, so JustClick gets no payment "
                            "time."),
    "paid-date-but-expected": _l("There is a paid date but the status is Expected: the order will be "
                                 "awaiting payment all the same."),
}


def short(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


class PlainText:
    """Refuses invisible characters that would reach JustClick as they are: controls (NUL, ESC, BEL,
    line breaks…) and direction marks. `keep` lists those a multi-line field may hold."""

    def __init__(self, keep: str = ""):
        self.keep = keep

    def __call__(self, form, field):
        for char in field.data or "":
            invisible = char in DIRECTION_MARKS or unicodedata.category(char) in ("Cc", "Zl", "Zp")
            if invisible and char not in self.keep:
                code = "U+" + format(ord(char), "04X")
                raise StopValidation(_("Remove the invisible character %(char)s from this field: "
                                       "JustClick would receive it as it is.", char=code))


class PriceField(StringField):
    """A price as the operator types it ("1500", "1 500,50"); `data` becomes a Decimal or None."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        text, self.data = (self.data or ""), None  # only a valid price is ever data
        if not text.strip():
            return
        price = read_price(text, current_app.config["ACCOUNT_CURRENCY"])  # the same in either language
        if price < 0:
            raise ValueError(_("A price cannot be negative."))
        if price.is_zero():  # a free line; "-0" is 0 too
            price = Decimal(0)
        if price.as_tuple().exponent < -2:
            raise ValueError(_("A price has at most 2 decimal places."))
        if price >= MAX_PRICE:
            raise ValueError(_("That price is too large."))
        self.data = price.quantize(Decimal(1)) if price == price.to_integral() else price

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format(self.data, "f") if self.data is not None else ""


class TypedDateTimeField(DateTimeLocalField):
    """A date and time typed into one text field: one tab stop, where the browser's datetime-local
    control takes one per segment (day, month, year, hour, minute, AM/PM)."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a date and time as %(example)s (or 31.01.2026 14:05).",
                               example=TIME_EXAMPLE)) from None


class ProductLineForm(Form):
    good_name = StringField(_l("Product"), validators=[short(100), PlainText()])
    price = PriceField(_l("Price override"), validators=[Optional()])

    @property
    def is_blank(self) -> bool:
        return not (self.good_name.data or "").strip() and not (self.price.raw_data or [""])[0].strip()


class ProductLines(FieldList):
    """The product lines. Past `max_entries` WTForms drops posted lines without a word; this notes
    how many were posted, so that an order with more is refused rather than cut."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.posted = len(set(self._extract_indices(self.name, formdata))) if formdata else 0
        super().process(formdata, data, extra_filters)


def _text(label, n=255, **kw):
    return StringField(label, validators=[Optional(), short(n), PlainText()], filters=[_strip], **kw)


#: (form class, language) -> field name -> its label in that language
_WORDED: dict[tuple[type, str], dict[str, Markup]] = {}


def _word_labels(form: Form, language: str) -> None:
    """Each lazily translated label of `form` as text in the page's language, worded once per form
    class and language: a lazy label looks its catalogue up each time the page shows it, and the
    order page shows some forty. Shown as the lazy label was (translations are the desk's own text)."""
    words = _WORDED.setdefault((type(form), language), {})
    for field in form:
        if isinstance(field.label.text, LazyString):
            text = words.get(field.short_name)
            if text is None:
                text = words[field.short_name] = Markup(field.label.text)
            field.label.text = text


def _country():
    # Checked by OrderForm._check_country against the set of codes: WTForms' own check of a select
    # makes an option of each of the 250 countries to find the one chosen.
    return SelectField(_l("Country"), choices=[NO_COUNTRY], default="", validate_choice=False)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class OrderForm(FlaskForm):
    class Meta:
        csrf_class = MaskedFormCSRF  # its csrf_token field masked per response, as every page's

    # One form, one order: claimed once when the order is sent.
    # Every field has a label of its own (here an empty one): a field without one asks WTForms for a
    # default, and that loads WTForms' message catalogue again in every request.
    submission_token = HiddenField("")

    # Customer
    customer_email = StringField(
        _l("Email"),
        validators=[DataRequired(_l("JustClick needs the customer's email.")), short(254), PlainText()],
        filters=[_strip],
    )
    customer_first_name = _text(_l("First name"), 100)
    customer_last_name = _text(_l("Last name"), 100)
    customer_middle_name = _text(_l("Middle name"), 100)
    customer_phone = _text(_l("Phone"), 40)
    order_ip = StringField(_l("Customer IP address"), filters=[_strip], validators=[
        Optional(), IPAddress(ipv4=True, ipv6=True, message=_l("Enter an IPv4 or IPv6 address."))])

    # Products
    products = ProductLines(FormField(ProductLineForm, ""), _l("Products"), min_entries=1,
                            max_entries=MAX_LINES)

    # Shipping address
    customer_shipping = _text(_l("Address"))
    customer_shipping_address_2 = _text(_l("Address, line 2"))
    customer_shipping_city = _text(_l("City"), 100)
    customer_shipping_state = _text(_l("Region / state"), 100)
    customer_shipping_zip = _text(_l("Postcode"), 20)
    customer_shipping_country_code = _country()
    customer_shipping_phone = _text(_l("Delivery phone"), 40)

    # Billing address
    billing_same_as_shipping = BooleanField(_l("Same as shipping"))
    customer_billing_address_1 = _text(_l("Address"))
    customer_billing_address_2 = _text(_l("Address, line 2"))
    customer_billing_city = _text(_l("City"), 100)
    customer_billing_state = _text(_l("Region / state"), 100)
    customer_billing_zip = _text(_l("Postcode"), 20)
    customer_billing_country_code = _country()

    # Order
    order_status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="")
    order_confirmed = SelectField(_l("Confirmed"), choices=CONFIRMED_CHOICES, default="")
    order_created_at = TypedDateTimeField(_l("Created at"), format=DATETIME_FORMATS, validators=[Optional()])
    order_paid_at = TypedDateTimeField(_l("Paid at"), format=DATETIME_FORMATS, validators=[Optional()])
    payment_method = _text(_l("Payment method"), 100)
    coupon = _text(_l("Coupon"), 20)
    order_tag = _text(_l("Order tag"), 100)
    note = TextAreaField(_l("Note"), validators=[Optional(), short(2000), PlainText(keep="\r\n\t")],
                         filters=[_strip])

    # Attribution
    order_sales_manager = _text(_l("Sales manager"), 20)
    affiliates = _text(_l("Affiliates"), 500)
    utm_source = _text("utm_source")
    utm_medium = _text("utm_medium")
    utm_campaign = _text("utm_campaign")
    utm_content = _text("utm_content")
    utm_term = _text("utm_term")

    def __init__(self, *args, catalog=None, default_region=None, timezone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalog = catalog
        self.default_region = default_region
        self.timezone = timezone
        self.zone = ZoneInfo(timezone) if timezone else EARLIEST_ZONE
        countries = [NO_COUNTRY, *country_choices(current_language())]
        self.customer_shipping_country_code.choices = self.customer_billing_country_code.choices = countries
        language = str(get_locale())
        for form in (self, *(line.form for line in self.products)):
            _word_labels(form, language)

    # --- products -------------------------------------------------------------------------

    def lines(self) -> list[ProductLine]:
        return [
            ProductLine(entry.good_name.data.strip(), entry.price.data)
            for entry in self.products if not entry.is_blank and entry.good_name.data
        ]

    def validate_customer_email(self, field):
        # Syntax only, never DNS. The reserved .test domain is allowed: the sandbox's test emails use it.
        try:
            checked = validate_email(field.data, check_deliverability=False, test_environment=True)
        except EmailNotValidError:
            raise ValidationError(_("This is not a valid email address.")) from None
        # The ASCII form (a punycode domain stays punycode; a Unicode one becomes it), unless the
        # mailbox name itself is not ASCII and so has none.
        field.data = checked.ascii_email or checked.normalized

    def validate_products(self, field):
        if field.posted > MAX_LINES:  # nothing is cut: the whole order waits for the operator
            raise ValidationError(_("At most %(limit)s product lines in one order; this one has %(count)s. "
                                    "Split it into two orders.", limit=MAX_LINES, count=field.posted))
        known = self.catalog.goods_by_name if self.catalog and self.catalog.goods is not None else None
        chosen = {}  # product -> its line number
        for number, entry in enumerate(field, 1):
            for sub in entry:
                if len(sub.raw_data or ()) > 1:  # WTForms would silently take the first
                    sub.errors.append(_("This field was sent twice; send the form again from the page."))
            if entry.is_blank or entry.good_name.errors:
                continue
            name = (entry.good_name.data or "").strip()
            if not name:
                entry.good_name.errors.append(_("Choose a product for this price."))
            elif known is not None and name not in known:
                entry.good_name.errors.append(_("The shop has no product “%(name)s”.", name=name))
            elif known is None and not TYPED_PRODUCT.match(name):
                entry.good_name.errors.append(_("A product id has no spaces or commas."))
            elif name in chosen:  # JustClick has no quantities, and a repeat is undocumented
                entry.good_name.errors.append(_("“%(name)s” is already on line %(line)s. An order takes each "
                                                "product once: send a second order for more.",
                                                name=name, line=chosen[name]))
            else:
                chosen[name] = number
        if any(sub.errors for entry in field for sub in entry):
            raise ValidationError(_("Check the product lines."))
        if not chosen:
            raise ValidationError(_("Add at least one product."))

    # --- choices that come from JustClick ---------------------------------------------------

    def validate_coupon(self, field):
        self._check_listed(field, self.catalog and self.catalog.coupons,
                           typed=_("Enter the coupon's numeric id."),
                           unlisted=_("Choose a coupon from the list."))

    def validate_order_sales_manager(self, field):
        self._check_listed(field, self.catalog and self.catalog.managers,
                           typed=_("Enter the manager's numeric id."),
                           unlisted=_("Choose a manager from the list."))

    @staticmethod
    def _check_listed(field, items, *, typed: str, unlisted: str):
        if not field.data:
            return
        if items is None:  # list unavailable: a typed id is accepted
            if not field.data.isdigit():
                raise ValidationError(typed)
        elif field.data not in {str(item["id"]) for item in items}:
            raise ValidationError(unlisted)

    # --- countries, phones, dates, partners ------------------------------------------------

    @staticmethod
    def _check_country(field):
        if field.data != NO_COUNTRY.value and field.data not in country_codes():
            raise ValidationError(field.gettext("Not a valid choice."))  # WTForms' words for a select

    def validate_customer_shipping_country_code(self, field):
        self._check_country(field)

    def validate_customer_billing_country_code(self, field):
        self._check_country(field)

    def _check_phone(self, field):
        if not field.data:
            return
        try:
            field.data = read_phone(field.data, self.default_region)
        except PhoneError as exc:
            raise ValidationError(say(exc.args[0])) from None

    def validate_customer_phone(self, field):
        self._check_phone(field)

    def validate_customer_shipping_phone(self, field):
        self._check_phone(field)

    def phone_reading(self, field) -> str:
        """Beside a phone field: the number that will be sent, or why it cannot be."""
        return "" if field.errors else say(reading(field.data, self.default_region))

    def _check_date(self, field):
        if not field.data:
            return
        if field.data.year not in YEARS:
            raise ValidationError(_("Enter a year from %(first)s to %(last)s.",
                                    first=YEARS.start, last=YEARS.stop - 1))
        if field.data > datetime.now(self.zone).replace(tzinfo=None):
            raise ValidationError(_("This time is in the future."))

    def validate_order_created_at(self, field):
        self._check_date(field)

    def validate_order_paid_at(self, field):
        self._check_date(field)
        created = self.order_created_at.data
        if field.data and created and field.data < created:
            raise ValidationError(_("Paid at cannot be before Created at."))

    def validate_order_tag(self, field):
        if "," in (field.data or ""):
            raise ValidationError(_("One tag only: JustClick takes a single order tag, so no commas."))

    def validate_affiliates(self, field):
        logins = [part.strip() for part in (field.data or "").split(",")]
        while logins and not logins[-1]:  # a trailing comma moves no one
            logins.pop()
        # The position is the partner's level: dropping an empty one would move the later ones up.
        if "" in logins:
            raise ValidationError(_("Position %(position)s is empty: the first login is the level-1 partner, "
                                    "the second level 2, and so on. Remove the extra comma or fill the "
                                    "position in.", position=logins.index("") + 1))
        bad = [login for login in logins if not LOGIN.match(login) or len(login) > 64]
        if bad:
            raise ValidationError(_("Not a partner login: %(logins)s. Separate logins with commas.",
                                    logins=", ".join(bad)))
        field.data = ",".join(logins)

    def status_doubt(self) -> str | None:
        """A status at odds with the paid date: sent only once the operator confirms (STATUS_DOUBTS)."""
        status, paid = self.order_status.data, self.order_paid_at.data
        if status == "Paid" and not paid:
            return "paid-without-date"
        if status == "Expected" and paid:
            return "paid-date-but-expected"
        return None

    def validate_billing_same_as_shipping(self, field):
        typed = [self[name].data for name in SHIPPING_TO_BILLING.values() if self[name].data]
        if field.data and typed:
            raise ValidationError(_("Untick this to send a billing address of its own, or clear it."))

    # --- what sits in the folded sections --------------------------------------------------

    def delivered_titles(self) -> list[str]:
        """Titles of the chosen products JustClick delivers (they need an address and a city)."""
        delivered = self.catalog.delivered if self.catalog else frozenset()
        goods = self.catalog.goods_by_name if self.catalog else {}
        return [goods.get(line.good_name, {}).get("good_title", line.good_name)
                for line in self.lines() if line.good_name in delivered]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        titles = self.delivered_titles()
        if not titles:
            return valid
        # JustClick refuses such an order (605); the operator hears it here, beside the fields.
        needs = {"customer_shipping": _("%(product)s is delivered: JustClick needs an address to ship it.",
                                        product=titles[0]),
                 "customer_shipping_city": _("%(product)s is delivered: JustClick needs a city to ship it.",
                                             product=titles[0])}
        for name, message in needs.items():
            field = self[name]
            if not field.data and not field.errors:
                field.errors.append(message)
                valid = False
        return valid

    def section(self, name: str) -> dict:
        """A folded section: how many of its fields hold a value, whether one is wrong, and whether
        it opens (an error, a value, or, for shipping, a product to deliver)."""
        fields = [self[f] for f in SECTIONS[name]]
        filled = sum(1 for f in fields if f.data not in (None, "", False) or (f.raw_data or [""])[0])
        errors = any(f.errors for f in fields)
        needed = name == "shipping" and bool(self.delivered_titles())
        return {"filled": filled, "errors": errors, "needed": needed,
                "open": bool(errors or filled or needed)}

    def api_values(self) -> dict:
        """Validated values keyed by API name (products and desk-only fields left out)."""
        skip = {"products", "billing_same_as_shipping", "csrf_token", "submission_token"}
        return {name: field.data for name, field in self._fields.items() if name not in skip}

    def order(self) -> tuple[dict, dict]:
        """What this valid form sends: the createorder parameters, and what the attempt keeps beside
        them (the lines as typed, whether they were reordered, billing as shipping). One function for
        the order page and for each row of a table, so the two never send an order differently."""
        lines, same_as_shipping = self.lines(), bool(self.billing_same_as_shipping.data)
        params, plan = build_params(self.api_values(), lines, billing_same_as_shipping=same_as_shipping)
        typed = [{"good_name": line.good_name, "price": None if line.price is None else str(line.price)}
                 for line in lines]
        return params, {"lines": typed, "reordered": plan.reordered,
                        "billing_same_as_shipping": same_as_shipping}


#: The folded sections of the order form and the fields each holds (the common order sits outside them).
SECTIONS = {
    "shipping": ("customer_shipping", "customer_shipping_address_2", "customer_shipping_city",
                 "customer_shipping_state", "customer_shipping_zip", "customer_shipping_country_code",
                 "customer_shipping_phone"),
    "billing": ("billing_same_as_shipping", "customer_billing_address_1", "customer_billing_address_2",
                "customer_billing_city", "customer_billing_state", "customer_billing_zip",
                "customer_billing_country_code"),
    "details": ("order_created_at", "order_paid_at", "order_confirmed", "payment_method", "order_tag",
                "note"),
    "attribution": ("order_ip", "affiliates", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                    "utm_term"),
}


#: The address fields named with their section, for where they stand alone (results, history).
SECTION_LABELS = {
    "customer_shipping": _l("Shipping address"),
    "customer_shipping_phone": _l("Shipping delivery phone"),
    "customer_shipping_address_2": _l("Shipping address, line 2"),
    "customer_shipping_city": _l("Shipping city"),
    "customer_shipping_state": _l("Shipping region / state"),
    "customer_shipping_zip": _l("Shipping postcode"),
    "customer_shipping_country_code": _l("Shipping country"),
    "customer_billing_address_1": _l("Billing address"),
    "customer_billing_address_2": _l("Billing address, line 2"),
    "customer_billing_city": _l("Billing city"),
    "customer_billing_state": _l("Billing region / state"),
    "customer_billing_zip": _l("Billing postcode"),
    "customer_billing_country_code": _l("Billing country"),
}


def _api_labels() -> dict:
    labels = {}
    for name in CREATEORDER_FIELDS:
        unbound = getattr(OrderForm, name, None)
        labels[name] = unbound.args[0] if unbound is not None else name.replace("_", " ").capitalize()
    labels.update(SECTION_LABELS, product_names=_l("Products"), product_prices=_l("Prices"))
    return labels


#: API field -> the label an operator knows it by (for results and history).
API_LABELS = _api_labels()


def api_labels():
    """API_LABELS in the page's language, worded once per language and process: a result names a
    dozen fields, and a lazy label looks its catalogue up again each time it is shown. Each label
    is shown as it was when lazy (as markup: translations are the desk's own text)."""
    return _api_labels_in(str(get_locale()))


@lru_cache(maxsize=8)
def _api_labels_in(language: str):
    return MappingProxyType({name: Markup(label) for name, label in API_LABELS.items()})


#: Refusals that are about fields JustClick does not always name: 605 is the delivery data.
FIELDS_OF_CODE = {605: ("customer_shipping", "customer_shipping_city")}


def fields_named(code, text: str) -> list[str]:
    """The form fields a refusal is about: those its text names by API name, else those its code means."""
    named = [name for name in CREATEORDER_FIELDS
             if not name.startswith("product_") and re.search(rf"\b{name}\b", text or "")]
    return named or list(FIELDS_OF_CODE.get(code, ()))


def with_line_action(formdata: MultiDict, action: str) -> MultiDict:
    """The posted form with a product line added or removed, or a manager chosen with one click
    ("manager:<id>"), every other typed value kept as typed."""
    lines: dict[int, dict] = {}
    rest = MultiDict()
    for key, value in formdata.items(multi=True):
        if match := PRODUCT_KEY.match(key):
            lines.setdefault(int(match[1]), {})[match[2]] = value
        elif key != "action":
            rest.add(key, value)
    rows = [lines[i] for i in sorted(lines)]
    verb, _, arg = action.partition(":")
    if verb == "add":
        blank = next((row for row in rows if not row.get("good_name") and not row.get("price")), None)
        if blank is not None and arg:
            blank["good_name"] = arg
        else:
            rows.append({"good_name": arg, "price": ""})
    elif verb == "remove" and arg.isdigit() and int(arg) < len(rows):
        del rows[int(arg)]
    elif verb == "manager":
        rest.setlist("order_sales_manager", [arg])
    for i, row in enumerate(rows or [{}]):
        rest.add(f"products-{i}-good_name", row.get("good_name", ""))
        rest.add(f"products-{i}-price", row.get("price", ""))
    return rest


def data_from_attempt(entry: dict) -> dict:
    """Form data that reproduces a recorded attempt (for "Duplicate into form").

    The store may hold anything (an older format, a hand-edited file): what cannot be read back is
    left out, so the form always opens."""
    sent = entry.get("sent") if isinstance(entry.get("sent"), dict) else {}
    data = {name: str(value) for name, value in sent.items()
            if name in CREATEORDER_FIELDS and not name.startswith("product_")
            and isinstance(value, str | int) and not isinstance(value, bool)}
    for key in ("order_created_at", "order_paid_at"):
        if key in data:
            data[key] = _stored_time(data[key])
    if entry.get("billing_same_as_shipping") is True:
        data = {k: v for k, v in data.items() if not k.startswith("customer_billing_")}
        data["billing_same_as_shipping"] = True
    lines = entry.get("lines") if isinstance(entry.get("lines"), list) else []
    data["products"] = [{"good_name": line["good_name"], "price": _stored_price(line.get("price"))}
                        for line in lines if isinstance(line, dict) and isinstance(line.get("good_name"), str)
                        ][:MAX_LINES]
    return data


def _stored_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, API_DATETIME)
    except ValueError:
        return None


def _stored_price(value) -> Decimal | None:
    try:
        price = Decimal(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except InvalidOperation:
        return None
    return price if price is not None and price.is_finite() else None


def error_list(form) -> list[tuple]:
    """(field, message) for every error, product lines included, in the order of the page."""
    found = []
    for field in form:
        if field.name == "products":
            lines = [(sub, message) for entry in field for sub in entry for message in sub.errors]
            found += lines or [(field[0].good_name, m) for m in field.errors if isinstance(m, str)]
        elif field.errors:
            found += [(field, message) for message in field.errors]
    return found
