"""Statistics for admins and case handlers: figures of a period from clear columns only
(core.statistics; nothing is decrypted), small cells suppressed, charts drawn as SVG on the
server, a CSV export and the early warnings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import date
from functools import partial
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

from core.categories.lookup import list_categories
from core.clock import DatePrecision
from core.models import Category, Role
from core.statistics.alerts import Alert, recent_alerts
from core.statistics.csv_export import figures_csv_bytes
from core.statistics.figures import Deadline, Figures, dashboard_figures
from core.statistics.periods import (
    MAX_YEAR,
    MIN_YEAR,
    FuturePeriod,
    OutOfRange,
    Period,
    parse_period,
)
from core.statistics.suppression import Table
from reviewer.console import console
from reviewer.pdf import PdfUnavailable
from reviewer.review_report import render_review
from reviewer.session import role_required
from reviewer.statistics_charts import CHARTS, chart_svg, drawn_charts
from reviewer.statistics_labels import category_names, csv_words, row_label
from web import current_language
from web.database import db
from web.downloads import document_response

blueprint = Blueprint("statistics", __name__, url_prefix="/statistics")
log = logging.getLogger("candor.console")
viewers = role_required(Role.ADMIN, Role.REVIEWER)


@dataclass(frozen=True)
class View:
    """The period asked for, and its figures (None: the period was refused).

    There is no filter by category or channel: each filtered view was another table of the
    same cases, and one view minus another gave back what both hid (a category's cases minus
    its web cases were its other channels' "<3"). The grid of categories by month and the
    table of channels show them, suppressed with every other view of the year
    (core.statistics.year_views)."""

    period: str
    figures: Figures | None
    error: str | None


def default_period(today: date) -> str:
    """The current quarter."""
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


#: A period is at most "2026-Q4" or "2026-11" long; a longer text is refused, not cut.
_PERIOD_LENGTH = 20


def _asked_period(today: date) -> tuple[str, Period | None, str | None]:
    """The period the address asks for (blank: the current quarter), as written (cut to
    `_PERIOD_LENGTH` to be shown again), parsed, and what is wrong with it, if anything."""
    written = (request.args.get("period") or "").strip() or default_period(today)
    shown = written[:_PERIOD_LENGTH]
    how = _("Write the period as a year (2026), a quarter (2026-Q4) or a month (2026-11).")
    if len(written) > _PERIOD_LENGTH:
        return shown, None, how
    try:
        return shown, parse_period(written, today), None
    except FuturePeriod:
        return shown, None, _("The period %(period)s has not begun yet: choose one that has.",
                              period=shown)
    except OutOfRange as wrong:
        if wrong.part == "year":
            return shown, None, _("The year %(year)d is outside the years statistics cover, "
                                  "%(first)d to %(last)d.", year=wrong.number,
                                  first=MIN_YEAR, last=MAX_YEAR)
        if wrong.part == "quarter":
            return shown, None, _("There is no quarter Q%(number)d: quarters are Q1 to Q4.",
                                  number=wrong.number)
        return shown, None, _("There is no month %(number)d: months are 01 to 12.",
                              number=wrong.number)
    except ValueError:
        return shown, None, how


def _view() -> View:
    today = console().services.clock.today()
    shown, period, error = _asked_period(today)
    if period is None:
        return View(shown, None, error)
    return View(shown, dashboard_figures(db(), period, today=today), None)


def _category_names(categories: list[Category]) -> dict[str, str]:
    return category_names(categories, current_language())


def _row_keys(figures: Figures) -> set[str]:
    """Every row key of the figures' tables (to name them in the CSV; a view of fewer than 3
    cases has only its total). The category grid's are named apart."""
    keys: set[str] = set()
    details = figures.details
    if details is None:
        return keys
    for block in fields(details):
        value = getattr(details, block.name)
        table = value.table if isinstance(value, Deadline) else value
        if isinstance(table, Table):
            keys.update(table.keys())
    return keys


def _filters(view: View) -> dict[str, str]:
    return {"period": view.period}


@blueprint.get("")
@viewers
def dashboard() -> Any:
    """The figures of one period, with their charts."""
    view = _view()
    categories = list_categories(db())
    names = _category_names(categories)
    alerts: list[Alert] = recent_alerts(db(), console().services.clock.today())
    status = 400 if view.error else 200
    details = view.figures.details if view.figures is not None else None
    return render_template(
        "reviewer/statistics.html", view=view, figures=view.figures, alerts=alerts,
        drawn=drawn_charts(details),
        weekly=console().services.clock.precision is DatePrecision.WEEK,
        names=names, charts=CHARTS,
        filters=_filters(view), label=partial(row_label, category_names=names)), status


@blueprint.get("/chart/<name>.svg")
@viewers
def chart(name: str) -> Any:
    """One chart of the dashboard as an SVG image (suppressed cells are not drawn)."""
    if name not in CHARTS:
        abort(404)
    view = _view()
    if view.error:
        return dashboard()  # the statistics page, saying what is wrong with the period (400)
    details = view.figures.details if view.figures is not None else None
    if details is None or name not in drawn_charts(details):
        abort(404)  # the page draws no such chart: too few cases, or every cell hidden or 0
    svg = chart_svg(details, name, _category_names(list_categories(db())))
    return Response(svg, mimetype="image/svg+xml")


@blueprint.get("/export.csv")
@viewers
def export() -> Any:
    """The same figures as CSV, suppressed the same way."""
    view = _view()
    if view.figures is None:
        return dashboard()  # the statistics page, saying what is wrong with the period (400)
    filename = f"candor-statistics-{view.figures.period.label}.csv"
    names = _category_names(list_categories(db()))
    labels_of = {key: row_label(key, names) for key in _row_keys(view.figures)}
    return document_response(filename, figures_csv_bytes(view.figures, labels_of, csv_words(),
                                                         names), "text/csv")


@blueprint.get("/review.<fmt>")
@viewers
def review(fmt: str) -> Any:
    """The periodic review report of a period, as PDF or as one self-contained HTML file
    (a download: its inline styles and charts are not meant for the console's pages)."""
    if fmt not in ("pdf", "html"):
        abort(404)
    today = console().services.clock.today()
    _shown, period, _error = _asked_period(today)
    if period is None:
        return dashboard()  # the statistics page, saying what is wrong with the period (400)
    try:
        rendered = render_review(period, today, pdf=fmt == "pdf")  # HTML needs no Pango
    except PdfUnavailable as exc:
        log.warning("review report refused: %s", exc)
        abort(503)  # the console's 503 page: ask the operator (reviewer.app)
    body = rendered.pdf if rendered.pdf is not None else rendered.html.encode("utf-8")
    mimetype = "application/pdf" if fmt == "pdf" else "text/html"
    return document_response(f"{rendered.stem}.{fmt}", body, mimetype)
