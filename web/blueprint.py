"""The blueprint that makes the shared templates, stylesheet and form helpers available."""

from __future__ import annotations

from flask import Blueprint

from web import forms

# Registered by both apps: templates become available as "web/...", the stylesheet as
# url_for("web.static", filename="web/base.css") under /shared-static/.
blueprint = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/shared-static",
)

for _helper in (
    forms.field_attrs,
    forms.hint_id,
    forms.error_id,
    forms.error_anchor,
    forms.errors_of,
):
    blueprint.add_app_template_global(_helper)
