"""Small helpers the form macros in ``web/forms.html`` use (registered as Jinja globals)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def hint_id(field: Any) -> str:
    """Return the id of the field's hint element."""
    return f"{field.id}-hint"


def error_id(field: Any) -> str:
    """Return the id of the field's error message element."""
    return f"{field.id}-error"


def error_anchor(field: Any) -> str:
    """Return the id the error summary links to: the field, or the first radio button."""
    if getattr(field, "type", "") in ("RadioField",):
        return f"{field.id}-0"
    return str(field.id)


def field_attrs(field: Any, *, hint: bool = False, **extra: Any) -> dict[str, Any]:
    """Return WTForms render attributes linking a field to its hint and errors.

    ``extra`` attributes are passed through (``class_`` for class); None values are dropped
    because WTForms would render them as the text "None".
    """
    described = []
    if hint:
        described.append(hint_id(field))
    if getattr(field, "errors", None):
        described.append(error_id(field))
    attrs: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if getattr(field, "errors", None):
        attrs["aria-invalid"] = "true"
    return attrs


def errors_of(form_or_fields: Any) -> list[tuple[Any, str]]:
    """Return (field, message) pairs for every error, in form order.

    Accepts a WTForms form or an iterable of fields; form-level errors
    (``form.form_errors``) are returned with field None.
    """
    pairs: list[tuple[Any, str]] = [
        (None, str(message)) for message in getattr(form_or_fields, "form_errors", ()) or ()
    ]
    for field in form_or_fields:
        for message in getattr(field, "errors", ()) or ():
            # FormField/FieldList nest errors in dicts/lists; show only plain messages.
            if isinstance(message, str) or hasattr(message, "__html__"):
                pairs.append((field, str(message)))
    return pairs


def as_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs (WTForms 3.4 drops bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]
