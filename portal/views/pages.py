"""Static information pages: landing page, language switch."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from portal.views import blueprint
from web import switch_language


@blueprint.get("/")
def landing() -> ResponseReturnValue:
    """What can be reported, how anonymity is protected, how to come back."""
    return render_template("portal/landing.html")


@blueprint.get("/language/<code>")
def language(code: str) -> ResponseReturnValue:
    """Switch the language with a plain link (no JavaScript) and go back."""
    return switch_language(code, request.args.get("next"))
