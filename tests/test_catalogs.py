"""The message catalogs of the portal, the console and the shared web layer (no database).

Every string the code marks for translation must have a reviewed Simplified Chinese
translation: a reporter reading Chinese must never meet an English sentence half-way through a
form. These tests extract the messages afresh with Babel (the same method map as
``pybabel extract -F <app>/babel.cfg``), so they fail as soon as someone adds or changes a
string without updating ``<app>/translations/zh_Hans_CN/LC_MESSAGES/messages.po``.

The Chinese catalog lives in ``zh_Hans_CN``, not ``zh_CN``: the apps offer "zh_CN", but
Flask-Babel parses it with Babel, which adds the likely script (``zh_Hans_CN``), and gettext
then looks only in ``zh_Hans_CN`` and ``zh`` (see ckan/ckan#4413). A ``zh_CN`` directory would
be ignored and every page would silently stay English. To fix a failure::

    make extract    # pybabel extract and update for portal/, reviewer/ and web/
    # translate the new entries of zh_Hans_CN (docs/GLOSSARY.md terms), then
    make catalogs   # pybabel compile
    # a new catalog for Chinese: pybabel init -l zh_Hans_CN ...
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask, render_template, render_template_string

import web

ROOT = Path(__file__).resolve().parents[1]
APPS = ("portal", "reviewer", "web")
#: The language codes the apps offer (web.init_babel's default).
LOCALES = ("zh_CN", "en")
#: pybabel's defaults (_, gettext, ngettext, ...) plus the lazy forms the code imports.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
CJK = re.compile(r"[\u3400-\u9fff]")
#: A Chinese character directly followed by ASCII punctuation: use ，。：；？！ instead.
HALF_WIDTH_AFTER_CJK = re.compile(r"[\u3400-\u9fff][,.:;?!]")
#: Paired punctuation that must stay balanced in a translation.
PAIRS = (("“", "”"), ("（", "）"), ("(", ")"), ("<", ">"))


def catalog_dir(locale: str) -> str:
    """The directory Flask-Babel reads for an offered language: "zh_CN" -> "zh_Hans_CN"."""
    return str(Locale.parse(locale))


def po_path(app: str, locale: str) -> Path:
    return ROOT / app / "translations" / catalog_dir(locale) / "LC_MESSAGES" / "messages.po"


def load_catalog(app: str, locale: str) -> Catalog:
    with po_path(app, locale).open("rb") as fileobj:
        return read_po(fileobj, locale=locale)


def extracted(app: str) -> dict[tuple[str, str | None], tuple[object, list[str]]]:
    """Messages in ``app`` now: (msgid, context) -> (message as extracted, ["file:line"])."""
    with (ROOT / app / "babel.cfg").open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=f"{app}/babel.cfg")
    found: dict[tuple[str, str | None], tuple[object, list[str]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT / app, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        if not msgid:
            continue
        entry = found.setdefault((msgid, context), (message, []))
        entry[1].append(f"{app}/{filename}:{lineno}")
    return found


def forms(message: Message) -> list[str]:
    """The translated strings of ``message`` (one per plural form)."""
    if isinstance(message.string, str):
        return [message.string]
    return list(message.string or ())


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def translated_messages(app: str) -> Iterator[Message]:
    for message in load_catalog(app, "zh_CN"):
        if message.id:
            yield message


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("app", APPS)
def test_catalog_is_where_flask_babel_looks(app: str, locale: str) -> None:
    assert po_path(app, locale).is_file()
    if catalog_dir(locale) != locale:
        # A catalog under the offered code itself would be ignored at runtime.
        assert not (ROOT / app / "translations" / locale).exists()
    assert load_catalog(app, locale).num_plurals == (1 if locale == "zh_CN" else 2)


@pytest.mark.parametrize("app", APPS)
def test_babel_cfg_finds_both_code_and_templates(app: str) -> None:
    """A wrong pattern in babel.cfg would silently extract nothing and pass every check."""
    files = {where.split(":")[0] for _, places in extracted(app).values() for where in places}
    assert any(name.endswith(".py") for name in files), files
    assert any(name.endswith(".html") for name in files), files


@pytest.mark.parametrize("app", APPS)
def test_every_message_has_a_chinese_translation(app: str) -> None:
    catalog = load_catalog(app, "zh_CN")
    problems = []
    for (msgid, context), (message, places) in sorted(extracted(app).items()):
        where = ", ".join(places)
        entry = catalog.get(msgid, context=context)
        if entry is None:
            problems.append(f"missing from the zh_CN catalog: {msgid!r} ({where})")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy (needs review): {msgid!r} ({where})")
        if not isinstance(message, str) and not entry.pluralizable:
            problems.append(f"used with a plural but catalogued without one: {msgid!r} ({where})")
        translations = forms(entry)
        if not translations or not all(text.strip() for text in translations):
            problems.append(f"not translated: {msgid!r} ({where})")
        elif entry.pluralizable and len(translations) != catalog.num_plurals:
            problems.append(f"needs {catalog.num_plurals} plural form(s): {msgid!r} ({where})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("app", APPS)
def test_catalog_has_no_fuzzy_or_empty_entries(app: str) -> None:
    """Also entries no longer in the code: `make catalogs` compiles with --use-fuzzy."""
    bad = [m.id for m in translated_messages(app) if m.fuzzy or not all(forms(m))]
    assert not bad


@pytest.mark.parametrize("app", APPS)
def test_placeholders_are_kept(app: str) -> None:
    problems = []
    for message in translated_messages(app):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(placeholders(text) for text in ids))
        for text in forms(message):
            if placeholders(text) != expected:
                problems.append(f"{ids[0]!r}: {sorted(placeholders(text))} != {sorted(expected)}")
            # A lone "%" would make the %-formatting of the translation fail at runtime.
            if "%" in PLACEHOLDER.sub("", text).replace("%%", ""):
                problems.append(f"{ids[0]!r}: stray % in {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("app", APPS)
def test_babel_checkers_pass(app: str) -> None:
    catalog = load_catalog(app, "zh_CN")
    errors = [f"{message.id!r}: {problems}" for message, problems in catalog.check()]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("app", APPS)
def test_chinese_punctuation_and_pairs(app: str) -> None:
    problems = []
    for message in translated_messages(app):
        source = message.id if isinstance(message.id, str) else message.id[0]
        for text in forms(message):
            if not CJK.search(text):
                problems.append(f"{source!r}: no Chinese in {text!r}")
            if HALF_WIDTH_AFTER_CJK.search(text):
                problems.append(f"{source!r}: half-width punctuation after Chinese in {text!r}")
            for opening, closing in PAIRS:
                if text.count(opening) != text.count(closing):
                    problems.append(f"{source!r}: unbalanced {opening}{closing} in {text!r}")
    assert not problems, "\n".join(problems)


def test_shared_messages_read_the_same_in_both_catalogs() -> None:
    """The portal loads both catalogs, merged; a msgid in both must not change its meaning
    depending on which catalog wins."""
    web_catalog = load_catalog("web", "zh_CN")
    different = []
    for message in translated_messages("portal"):
        other = web_catalog.get(message.id if isinstance(message.id, str) else message.id[0],
                                context=message.context)
        if other is not None and forms(other) != forms(message):
            different.append(f"{message.id!r}: {forms(message)} vs {forms(other)}")
    assert not different, "\n".join(different)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("app", APPS)
def test_catalog_compiles(app: str, locale: str) -> None:
    catalog = load_catalog(app, locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    translations = Translations(fp=buffer)
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string:
            assert translations.gettext(message.id) == message.string


# -- the portal really speaks Chinese ----------------------------------------------------------

def ensure_compiled(app: str) -> Path:
    """Compile the .po files of ``app`` (build products, git-ignored) if missing or stale."""
    directory = ROOT / app / "translations"
    for locale in LOCALES:
        source = po_path(app, locale)
        target = source.with_suffix(".mo")
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        buffer = io.BytesIO()
        write_mo(buffer, load_catalog(app, locale))
        # Atomic: another test process may be reading the catalog at the same moment.
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as fileobj:
            fileobj.write(buffer.getvalue())
        os.replace(tmp, target)
    return directory


@pytest.fixture
def babel_app() -> Flask:
    """Not the portal (it needs a database): just its translations and the shared templates."""
    app = Flask("catalog_test")
    app.register_blueprint(web.blueprint)
    web.init_babel(app, translations_dir=f"{ensure_compiled('portal')};{ensure_compiled('web')}")
    return app


def chinese(message: str, app: str = "portal") -> str:
    entry = load_catalog(app, "zh_CN").get(message)
    assert entry is not None and isinstance(entry.string, str) and entry.string
    return entry.string


def test_portal_strings_come_out_in_chinese(babel_app: Flask) -> None:
    from flask_babel import gettext, lazy_gettext

    with babel_app.test_request_context(headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}):
        assert web.current_language() == "zh_CN"
        assert gettext("Send a report") == chinese("Send a report")
        assert CJK.search(gettext("Send a report"))
        assert str(lazy_gettext("Under investigation")) == "调查中"
        assert gettext("Your receipt code") == "您的回执码"
        # A message of the shared layer, through the second translations directory.
        assert gettext("Page not found") == chinese("Page not found", "web")
        assert gettext("Sent on %(day)s.", day="2026-03-01") == "提交于 2026-03-01。"


def test_jinja_translations_and_plurals_in_chinese(babel_app: Flask) -> None:
    with babel_app.test_request_context(headers={"Accept-Language": "zh-Hans"}):
        html = render_template_string(
            '{{ _("Up to %(count)d files, %(size)d MB in total.", count=3, size=20) }}')
        assert html == "最多 3 个文件，总大小不超过 20 MB。"
        page = render_template("web/error.html", code=429, title="t", message="m",
                               retry_after=30)
        assert 'lang="zh-CN"' in page
        assert "您可以在 30 秒后重试。" in page
        assert chinese("Go to the start page", "web") in page


def test_english_stays_english(babel_app: Flask) -> None:
    from flask_babel import gettext

    with babel_app.test_request_context(headers={"Accept-Language": "en-GB,en;q=0.8"}):
        assert gettext("Send a report") == "Send a report"
        page = render_template("web/error.html", code=429, title="t", message="m",
                               retry_after=1)
        assert "You can try again in 1 second." in page
