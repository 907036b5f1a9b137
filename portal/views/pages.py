"""Static information pages: landing page, language switch."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from web import switch_language

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
def landing() -> ResponseReturnValue:
    """What can be reported, how anonymity is protected, how to come back."""
    return render_template("portal/landing.html")


@blueprint.get("/language/<code>")
def language(code: str) -> ResponseReturnValue:
    """Switch the language with a plain link (no JavaScript) and go back."""
    return switch_language(code, request.args.get("next"))
