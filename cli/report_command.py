"""`candor report`: the periodic review report of a period, as PDF and HTML."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import CliContext, pass_context
from core.statistics.periods import parse_period
from reviewer import create_app
from reviewer.pdf import PdfUnavailable
from reviewer.review_report import LANGUAGES, render_review_offline


@click.command()
@click.option("--period", required=True,
              help="A year (2026), a quarter (2026-Q4) or a month (2026-11).")
@click.option("--language", type=click.Choice(sorted(LANGUAGES)), default="en",
              show_default=True, help="The report's language.")
@click.option("--format", "output_format", type=click.Choice(["pdf", "html", "both"]),
              default="both", show_default=True)
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Where to write candor-review-<period>-<language>.*")
@pass_context
def report(obj: CliContext, period: str, language: str, output_format: str,
           output_dir: Path) -> None:
    """Write the periodic review report (定期检视) of a period: volumes, times and deadlines,
    scope, findings and root causes, corrective actions, recurring themes (early warnings)
    and reporters' satisfaction, with questions for the review meeting.

    The figures are those of the console's statistics page, from the fields kept unencrypted
    for statistics: nothing is decrypted, and counts of 1 or 2 are shown as "<3".
    """
    try:
        chosen = parse_period(period, obj.services.clock.today())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    obj.check_schema()
    app = create_app(obj.config, services=obj.services)
    try:
        rendered = render_review_offline(app, chosen, obj.services.clock.today(), language,
                                         pdf=output_format != "html")  # HTML needs no Pango
    except PdfUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    written = []
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        if rendered.pdf is not None:
            written.append(output_dir / f"{rendered.stem}.pdf")
            written[-1].write_bytes(rendered.pdf)
        if output_format in ("html", "both"):
            written.append(output_dir / f"{rendered.stem}.html")
            written[-1].write_text(rendered.html, encoding="utf-8")
    except OSError as exc:  # a read-only, missing or wrong kind of place: the operator's to fix
        where = exc.filename or output_dir
        raise click.ClickException(f"cannot write the report to {where}: "
                                   f"{exc.strerror or exc}") from None
    for path in written:
        click.echo(f"Wrote {path}")
