"""The shared skeleton, form macros and stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

import web

PAGE = """{% extends "web/base.html" %}
{% import "web/forms.html" as forms %}
{% block title %}Report{% endblock %}
{% block content %}
{{ forms.error_summary(form) }}
<form method="post" novalidate>
{{ form.csrf_token }}
{{ forms.text_input(form.name, hint="Optional") }}
{{ forms.textarea(form.story, hint="Say what happened") }}
{{ forms.select(form.category) }}
{{ forms.radios(form.contact, hint="Choose one") }}
{{ forms.checkbox(form.agree) }}
{{ forms.file_input(form.evidence, hint="Choose files again", multiple=true) }}
<button type="submit">Send</button>
</form>
{% endblock %}
"""


class ReportForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=5, message="Name too long")])
    story = TextAreaField("What happened", validators=[DataRequired("Tell us what happened")])
    category = SelectField(
        "Category", choices=[SelectChoice("fraud", "Fraud"), SelectChoice("safety", "Safety")]
    )
    contact = RadioField(
        "Contact",
        choices=[SelectChoice("no", "No"), SelectChoice("yes", "Yes")],
        validators=[DataRequired("Pick one")],
    )
    agree = BooleanField("I understand", validators=[DataRequired("Please confirm")])
    evidence = FileField("Evidence")


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app(WTF_CSRF_ENABLED=False)

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        form = ReportForm()
        form.validate_on_submit()
        return render_template_string(PAGE, form=form)

    return app


def test_page_skeleton(app: Flask) -> None:
    body = app.test_client().get("/").get_data(as_text=True)
    assert body.startswith("<!doctype html>")
    assert '<html lang="en">' in body
    assert 'name="viewport"' in body
    assert 'href="/shared-static/web/base.css"' in body
    assert '<a class="skip-link" href="#main">' in body
    assert '<main id="main"' in body
    assert "<script" not in body
    assert "style=" not in body  # the CSP forbids inline styles
    assert 'class="error-summary"' not in body
    for field_id in ("name", "story", "category", "agree", "evidence"):
        assert f'for="{field_id}"' in body
    assert 'aria-describedby="name-hint"' in body
    assert 'id="name-hint"' in body


def test_errors_are_summarised_linked_and_input_kept(app: Flask) -> None:
    body = (
        app.test_client()
        .post("/", data={"name": "Zhang Wei <b>", "story": "", "category": "safety"})
        .get_data(as_text=True)
    )
    summary = body[body.index('class="error-summary"') : body.index("</ul>")]
    assert 'href="#name"' in summary and "Name too long" in summary
    assert 'href="#story"' in summary and "Tell us what happened" in summary
    assert 'href="#contact-0"' in summary  # radios link to the first option
    assert 'href="#agree"' in summary
    # Errors next to fields, referenced by aria-describedby, after the hint.
    assert 'aria-describedby="name-hint name-error"' in body
    assert 'aria-invalid="true"' in body
    assert 'id="story-error"' in body
    assert re.search(r'<fieldset[^>]*aria-describedby="contact-hint contact-error"', body)
    # The user's input comes back, escaped.
    assert 'value="Zhang Wei &lt;b&gt;"' in body
    assert re.search(r'<option selected value="safety">|<option value="safety" selected>', body)
    assert "<b>" not in body
    assert "multiple" in body


def test_error_summary_accepts_form_level_errors(make_app) -> None:
    app = make_app()
    with app.test_request_context("/"):
        html = render_template_string(
            '{% import "web/forms.html" as forms %}{{ forms.error_summary(form, title="Oops") }}',
            form=type("F", (), {"form_errors": ["Whole form"], "__iter__": lambda s: iter(())})(),
        )
    assert "Oops" in html and "<li>Whole form</li>" in html


CSS = Path(web.__file__).parent / "static" / "web" / "base.css"


def test_stylesheet_is_self_contained() -> None:
    css = CSS.read_text()
    assert "@import" not in css
    assert "url(" not in css
    assert "http" not in css
    assert "@font-face" not in css
    assert 'system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif' in css
    for needle in (".receipt-code", ".banner-warning", "@media print", ":focus-visible", "44px"):
        assert needle in css
    assert css.count("{") == css.count("}")


def test_no_javascript_in_templates() -> None:
    for path in (Path(web.__file__).parent / "templates").rglob("*.html"):
        text = path.read_text().lower()
        assert "<script" not in text, path
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", text), path  # no event handlers
        assert "style=" not in text, path
