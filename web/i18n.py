"""Language selection for both apps: an explicit choice in the session, else Accept-Language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask import Flask, current_app, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

SESSION_KEY = "candor.language"
_EXTENSION_KEY = "candor.i18n"

# Language tags a browser may send that should select Simplified Chinese.
DEFAULT_ALIASES: Mapping[str, str] = {
    "zh": "zh_CN",
    "zh-cn": "zh_CN",
    "zh-hans": "zh_CN",
    "zh-hans-cn": "zh_CN",
    "zh-sg": "zh_CN",
    "zh-hans-sg": "zh_CN",
}


def _tag(code: str) -> str:
    """Normalise a locale code or language tag for comparison ("zh_CN" -> "zh-cn")."""
    return code.replace("_", "-").lower()


@dataclass(frozen=True)
class LanguageConfig:
    """The languages an app offers and how browser language tags map onto them."""

    languages: tuple[str, ...]
    default: str
    # normalised tag -> locale code, e.g. "zh-hans" -> "zh_CN"
    aliases: Mapping[str, str] = field(default_factory=dict)


def init_babel(
    app: Flask,
    *,
    translations_dir: str,
    languages: Iterable[str] = ("en", "zh_CN"),
    default: str = "en",
    aliases: Mapping[str, str] | None = None,
) -> Babel:
    """Set up Flask-Babel on ``app`` with Candor's locale selection.

    The locale is (a) the explicit choice stored by :func:`set_language`, else (b) the best
    match of the browser's Accept-Language against ``languages`` (with ``aliases`` such as
    zh, zh-Hans, zh-SG -> zh_CN), else ``default``. Registers ``html_lang``,
    ``current_language``, ``language_choices`` and ``language_return_path`` as Jinja
    globals.
    """
    langs = tuple(languages)
    if default not in langs:
        raise ValueError("the default language must be one of the offered languages")
    table: dict[str, str] = {}
    for code in langs:
        table[_tag(code)] = code
    for tag, code in (DEFAULT_ALIASES if aliases is None else aliases).items():
        if code in langs:
            table.setdefault(_tag(tag), code)
    for code in langs:
        # A bare primary tag ("en" for "en_GB") selects the first language using it.
        table.setdefault(_tag(code).split("-")[0], code)
    app.extensions[_EXTENSION_KEY] = LanguageConfig(langs, default, table)

    babel = Babel(
        app,
        locale_selector=select_locale,
        default_locale=default,
        default_translation_directories=translations_dir,
    )
    app.jinja_env.filters["join_names"] = join_names
    app.jinja_env.globals.update(sentences=sentences, colon=colon, bracketed=bracketed)
    app.jinja_env.globals.update(
        html_lang=html_lang,
        current_language=current_language,
        language_choices=language_choices,
        language_return_path=language_return_path,
    )
    return babel


def join_names(names: Iterable[str]) -> str:
    """People's names as a list in the page's language: "A, B" in English, "A、B" in
    Chinese (an ASCII comma in Chinese text reads as a typo)."""
    separator = "、" if _chinese() else ", "
    return separator.join(names)


def _chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


def colon() -> str:
    """What follows a label: "：" in Chinese ("阶段：已受理"), ": " in English (an ASCII colon
    in Chinese text reads as a typo)."""
    return "：" if _chinese() else ": "


def bracketed(text: object) -> Markup:
    """An aside after a word: "（您）" in Chinese, " (you)" in English. `text` is escaped
    unless it is markup already."""
    return (Markup("（{}）") if _chinese() else Markup(" ({})")).format(text)


def sentences(*parts: str) -> str:
    """Translated sentences side by side: with a space in English, without one in Chinese
    (a space between Chinese sentences shows as a gap)."""
    gap = "" if _chinese() else " "
    return gap.join(part for part in parts if part)


def _config() -> LanguageConfig:
    config = current_app.extensions.get(_EXTENSION_KEY)
    if not isinstance(config, LanguageConfig):
        raise RuntimeError("init_babel() has not been called for this app")
    return config


def select_locale() -> str:
    """Return the locale code for the current request (the Flask-Babel locale selector)."""
    config = _config()
    if not has_request_context():  # e.g. rendering from a CLI command
        return config.default
    chosen = session.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in config.languages:
        return chosen
    # werkzeug matches exactly first, then on primary subtags ("en-US" -> "en").
    match = request.accept_languages.best_match(list(config.aliases))
    if match is not None:
        return config.aliases.get(_tag(match), config.default)
    return config.default


def set_language(code: str) -> bool:
    """Store an explicit language choice in the session; False if ``code`` is not offered."""
    if code not in _config().languages:
        return False
    session[SESSION_KEY] = code
    return True


def current_language() -> str:
    """Return the current locale as one of the offered codes, e.g. "zh_CN" or "en"."""
    config = _config()
    locale = get_locale()
    if locale is None:
        return config.default
    # Babel expands "zh_CN" to zh_Hans_CN; map it back to the code the app offers.
    for code in config.languages:
        if Locale.parse(code) == locale:
            return code
    return str(locale)


def html_lang() -> str:
    """Return the BCP 47 tag for ``<html lang>``, e.g. "zh-CN" or "en"."""
    return current_language().replace("_", "-")


#: How each language names itself in the switcher, where Babel's name reads awkwardly
#: ("中文 (简体, 中国)").
SELF_NAMES = {"zh_CN": "简体中文", "en": "English"}


def language_choices() -> list[tuple[str, str]]:
    """Return (code, name of the language in itself) for every offered language."""
    choices = []
    for code in _config().languages:
        if code in SELF_NAMES:
            choices.append((code, SELF_NAMES[code]))
            continue
        try:
            name = Locale.parse(code).get_display_name(code) or code
        except (ValueError, UnknownLocaleError):
            name = code
        choices.append((code, name))
    return choices


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` if it is a same-site relative path, else ``default``.

    Only paths starting with a single "/" pass: "//host", "/\\host" (browsers read a
    backslash as a slash), absolute URLs, "javascript:" and anything with control characters
    or whitespace fall back to ``default``.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    if "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def switch_language(code: str, next_target: str | None) -> Response:
    """Handle a ``/language/<code>`` link: remember the choice, go back to a safe path.

    An unknown code is ignored (the user simply lands back on the page).
    """
    set_language(code)
    return redirect(safe_next(next_target), code=303)


def language_return_path() -> str:
    """Where a language link on this page should come back to.

    The page itself if its route can be fetched (GET); else (a form-only URL fetched, a
    missing page) the nearest enclosing path of at most ``_RETURN_DEPTH`` segments that is
    an ordinary page, else "/". Never a URL that only takes forms, the language switch
    itself, or a static file. Bounded work whatever the length of a hostile path.
    """
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()) and _ordinary_page(rule.endpoint):
        return request.path
    adapter = current_app.url_map.bind_to_environ(request.environ)
    segments = request.path.split("/", _RETURN_DEPTH + 1)[1:_RETURN_DEPTH + 1]
    for depth in range(len(segments), 0, -1):
        candidate = "/" + "/".join(segments[:depth])
        try:
            endpoint, _args = adapter.match(candidate, method="GET")
        except (HTTPException, RequestRedirect):
            continue
        if _ordinary_page(endpoint):
            return candidate
    return "/"


#: The deepest page path a language link returns to ("/case/files/<id>" is the deepest).
_RETURN_DEPTH = 3


def _ordinary_page(endpoint: str) -> bool:
    """A page worth coming back to: not a static file, not the language switch itself."""
    name = endpoint.rsplit(".", 1)[-1]
    return name not in ("static", "language")
