"""`candor category ...`: the report categories offered on the submission form."""

from __future__ import annotations

import click

from cli.context import CliContext, pass_context
from cli.tables import format_table
from core.categories.admin import (
    FIELD_LABELS,
    add_category,
    edit_category,
    move_category,
    route_intake,
    set_category_active,
)
from core.categories.intake_routes import IntakeRoutes, read_routes, receiving_intake
from core.categories.lookup import get_category, list_categories
from core.models import Category, Role

_NAME_HELP = "Shown to reporters on the form; 1-120 characters, one line."
_DESCRIPTION_HELP = ("The hint under the name on the form (for a category you add without "
                     "--keywords, also the words the console's category suggestions start "
                     "from); up to 1000 characters, one line.")
_KEYWORDS_HELP = ("Keyword terms for the console's category suggestions, either language, "
                  "separated by commas or semicolons (also ， 、 ；), e.g. 'tender, kickback, "
                  "招标, 回扣'; up to 100 terms of up to 60 characters, 2000 characters in "
                  "all. They add to the rules shipped for a default category, and "
                  "replace the names and descriptions as evidence for one you add. Not shown "
                  "to reporters.")


def _intake(category: Category, routes: IntakeRoutes) -> list[str]:
    """The intake case handlers as listed: those who receive the category's new reports, and
    those named who do not yet (not enrolled: they have not logged in, set up TOTP and chosen
    their own passphrase, or on a route Candor did not write), marked so."""
    receiving = receiving_intake(category, routes)
    trusted = routes.of(category)
    return [r.username if r in receiving
            else f"{r.username} (not enrolled yet)" if r.id in trusted
            else f"{r.username} (ROUTE NOT WRITTEN BY CANDOR: receives nothing)"
            for r in sorted(category.intake_reviewers, key=lambda r: r.username)
            if r in receiving or r.id not in trusted or (r.active and r.role is Role.REVIEWER)]


@click.group()
def category() -> None:
    """List, add, edit, reorder, deactivate and route report categories.

    Reporters choose a category on the submission form, where active categories appear in
    position order (1 is the top) with their name and description in the visitor's language
    (English or Chinese). Codes are permanent; deactivating a category hides it from the form
    but keeps it on existing cases.
    """


@category.command("list")
@pass_context
def category_list(obj: CliContext) -> None:
    """List every category: position, state, names, intake.

    Intake lists the case handlers who receive the category's new reports; one named who has
    not enrolled yet (logged in, set up TOTP, chosen their own passphrase) is marked so, and so
    is a route Candor did not write (someone wrote to the database: it receives nothing).
    """
    with obj.transaction() as session:
        routes = read_routes(session, obj.services.keyring)
        tampered = routes.tampered
        rows = [(str(position), c.code, "active" if c.active else "inactive", c.name_en,
                 c.name_zh, ", ".join(_intake(c, routes)) or "(none)",
                 c.active and not receiving_intake(c, routes))
                for position, c in enumerate(list_categories(session), start=1)]
    if not rows:
        click.echo("No categories. Add one with `candor category add CODE --name-en ... "
                   "--name-zh ...`.")
        return
    header = ("POS", "CODE", "STATE", "NAME (EN)", "NAME (ZH)", "INTAKE")
    for line in format_table(header, [tuple(str(v) for v in row[:6]) for row in rows]):
        click.echo(line)
    unrouted = [r[1] for r in rows if r[6]]
    if unrouted:
        click.echo(f"\nNo active intake case handler for: {', '.join(unrouted)}. Their reports "
                   "are readable only with the recovery key; use `candor category intake` (a "
                   "case handler receives reports once enrolled).")
    if tampered:
        click.echo(f"\nAlarm: {len(tampered)} intake route(s) were not written by Candor "
                   "(someone wrote to the database); they receive nothing. Route the "
                   "category again with `candor category intake` and tell your security team.")


@category.command("show")
@click.argument("code")
@pass_context
def category_show(obj: CliContext, code: str) -> None:
    """Show one category in full, descriptions included."""
    with obj.transaction() as session:
        c = get_category(session, code)
        routes = read_routes(session, obj.services.keyring)
        position = [x.code for x in list_categories(session)].index(c.code) + 1
        lines = [("code", c.code), ("position", str(position)),
                 ("state", "active" if c.active else "inactive (hidden from the form)"),
                 ("name (en)", c.name_en), ("name (zh)", c.name_zh),
                 ("description (en)", c.description_en), ("description (zh)", c.description_zh),
                 ("keywords", c.keywords or "(none)"),
                 ("intake", ", ".join(_intake(c, routes)) or "(none)")]
    for label, value in lines:
        click.echo(f"{label + ':':<18} {value}")


@category.command("add")
@click.argument("code")
@click.option("--name-en", required=True, help=f"English name. {_NAME_HELP}")
@click.option("--name-zh", required=True, help=f"Chinese name. {_NAME_HELP}")
@click.option("--description-en", default="", help=f"English description. {_DESCRIPTION_HELP}")
@click.option("--description-zh", default="", help=f"Chinese description. {_DESCRIPTION_HELP}")
@click.option("--keywords", default="", help=_KEYWORDS_HELP)
@click.option("--position", type=int, default=None,
              help="Place on the form, 1 = top (default: last). Later categories move down.")
@pass_context
def category_add(obj: CliContext, code: str, name_en: str, name_zh: str, description_en: str,
                 description_zh: str, keywords: str, position: int | None) -> None:
    """Add an active category with code CODE.

    CODE is permanent: 1-32 characters of lowercase a-z, 0-9 and underscore, e.g. "fraud".
    New reports in it go to nobody until you name its intake case handlers with
    `candor category intake CODE USERNAME...`.
    """
    with obj.transaction() as session:
        created = add_category(session, obj.services, code=code, name_en=name_en,
                               name_zh=name_zh, description_en=description_en,
                               description_zh=description_zh, keywords=keywords,
                               position=position)
        where = [c.code for c in list_categories(session)].index(created.code) + 1
        code = created.code
    click.echo(f"Added category {code!r} at position {where}.")
    click.echo(f"Route its reports with `candor category intake {code} USERNAME...`.")


@category.command("edit")
@click.argument("code")
@click.option("--name-en", default=None, help=f"New English name. {_NAME_HELP}")
@click.option("--name-zh", default=None, help=f"New Chinese name. {_NAME_HELP}")
@click.option("--description-en", default=None,
              help=f"New English description ('' clears it). {_DESCRIPTION_HELP}")
@click.option("--description-zh", default=None,
              help=f"New Chinese description ('' clears it). {_DESCRIPTION_HELP}")
@click.option("--keywords", default=None,
              help=f"New keywords, replacing the old ones ('' clears them). {_KEYWORDS_HELP}")
@pass_context
def category_edit(obj: CliContext, code: str, name_en: str | None, name_zh: str | None,
                  description_en: str | None, description_zh: str | None,
                  keywords: str | None) -> None:
    """Change the names, descriptions or keywords of category CODE.

    Options left out stay as they are. The code cannot change. Existing cases show the new names.
    """
    if all(v is None for v in (name_en, name_zh, description_en, description_zh, keywords)):
        raise click.UsageError("give at least one of --name-en, --name-zh, --description-en, "
                               "--description-zh, --keywords")
    with obj.transaction() as session:
        edit = edit_category(session, obj.services, code, name_en=name_en, name_zh=name_zh,
                             description_en=description_en, description_zh=description_zh,
                             keywords=keywords)
    if edit.changed:
        fields = ", ".join(FIELD_LABELS[f] for f in edit.changed)
        click.echo(f"Updated {fields} of category {code!r}.")
    else:
        click.echo(f"Category {code!r} already reads like that; nothing changed.")


@category.command("move")
@click.argument("code")
@click.argument("position", type=int)
@pass_context
def category_move(obj: CliContext, code: str, position: int) -> None:
    """Move category CODE to POSITION on the form (1 = top).

    The other categories keep their order. Positions count inactive categories too, so a
    reactivated category returns to its place. See them with `candor category list`.
    """
    with obj.transaction() as session:
        move_category(session, obj.services, code, position)
        total = len(list_categories(session))
    click.echo(f"Category {code!r} is now at position {position} of {total}.")


@category.command("deactivate")
@click.argument("code")
@pass_context
def category_deactivate(obj: CliContext, code: str) -> None:
    """Hide category CODE from the submission form.

    Existing cases keep it, and staff can still filter by it. The last active category cannot
    be deactivated. Undo with `candor category activate CODE`.
    """
    with obj.transaction() as session:
        set_category_active(session, obj.services, code, False)
    click.echo(f"Deactivated category {code!r}: new reports can no longer choose it.")


@category.command("activate")
@click.argument("code")
@pass_context
def category_activate(obj: CliContext, code: str) -> None:
    """Put a deactivated category CODE back on the form.

    It returns at its position in `candor category list`.
    """
    with obj.transaction() as session:
        set_category_active(session, obj.services, code, True)
    click.echo(f"Activated category {code!r}: it is on the submission form again.")


@category.command("intake")
@click.argument("code")
@click.argument("usernames", nargs=-1, metavar="USERNAME...")
@click.option("--none", "clear", is_flag=True,
              help="Remove every intake case handler (reports then reach nobody until you "
                   "name one; they stay readable with the recovery key).")
@pass_context
def category_intake(obj: CliContext, code: str, usernames: tuple[str, ...],
                    clear: bool) -> None:
    """Make USERNAME... the intake case handlers of category CODE.

    New reports in the category are granted to them (active accounts with the reviewer role
    only). This replaces the previous list; the console's routing page does the same.
    """
    if bool(usernames) == clear:
        raise click.UsageError("name at least one case handler, or pass --none (not both)")
    with obj.transaction() as session:
        routed = route_intake(session, obj.services, code, list(usernames))
        names = ", ".join(r.username for r in routed.intake_reviewers)
    if names:
        click.echo(f"New reports in {code!r} now go to: {names}.")
    else:
        click.echo(f"Category {code!r} has no intake case handler: its new reports are "
                   "readable only with the recovery key.")
