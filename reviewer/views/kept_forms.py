"""Refused forms of the case page, kept for the page rebuilt in the same request: what the
handler chose and typed comes back with its errors instead of a fresh form (outside tester:
a refused step threw the typed text away)."""

from __future__ import annotations

from typing import Any

from flask import g
from flask_wtf import FlaskForm

#: A refused form to show again (the case page's context key, the posted form).
Kept = tuple[str, FlaskForm]


def keep_posted(key: str, form: FlaskForm) -> None:
    """Show the refused `form` (what the handler chose and typed, with its errors) on the case
    page rebuilt for this request, in place of a fresh one under `key`."""
    g.kept_handling_form = (key, form)


def add_field_error(form: FlaskForm, field: str | None, message: str) -> None:
    """Put `message` next to the form's `field` (a field refused by the use case)."""
    if field and field in form:
        form[field].errors = [*form[field].errors, message]


def kept_forms() -> dict[str, Any]:
    """The refused form kept by `keep_posted` in place of its fresh one, and its key as
    `kept` (the panel shows it even where the stage no longer offers its step)."""
    kept: Kept | None = g.get("kept_handling_form")
    if kept is None:
        return {"kept": None}
    key, form = kept
    return {key: form, "kept": key}
