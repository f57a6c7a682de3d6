"""The order form's fields as WTForms renders them, with their attributes written without
`str.format`: WTForms writes each attribute through markupsafe's escaping formatter, and that was a
fifth of the order page's time. The markup is WTForms' own, byte for byte (tests/orders/test_form.py).

The fields keep WTForms' class names: templates tell fields apart by `field.type`.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import fields, widgets
from wtforms.widgets.core import clean_key


def html_params(**kwargs) -> Markup:
    """wtforms.widgets.html_params: the attributes sorted by name, True as a bare name, False left out."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = escape(clean_key(key))
        if value is True:
            params.append(key)
        elif value is not False:
            params.append(f'{key}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


class TextInput(widgets.TextInput):
    html_params = staticmethod(html_params)


class HiddenInput(widgets.HiddenInput):
    html_params = staticmethod(html_params)


class CheckboxInput(widgets.CheckboxInput):
    html_params = staticmethod(html_params)


class PasswordInput(widgets.PasswordInput):
    html_params = staticmethod(html_params)


class TextArea(widgets.TextArea):
    def __call__(self, field, **kwargs):  # wtforms.widgets.TextArea, with the attributes above
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        params = html_params(name=field.name, **kwargs)
        return Markup(f"<textarea {params}>\r\n{escape(field._value())}</textarea>")


class StringField(fields.StringField):
    widget = TextInput()


class HiddenField(fields.HiddenField):
    widget = HiddenInput()


class BooleanField(fields.BooleanField):
    widget = CheckboxInput()


class PasswordField(fields.PasswordField):
    widget = PasswordInput()


class TextAreaField(fields.TextAreaField):
    widget = TextArea()
