"""Checks run on every response of every portal test: headers, markup, no foreign URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask

# --- every response of every portal test is checked -------------------------------------------

#: Attributes that make the browser fetch or navigate.
URL_ATTRS_RE = re.compile(
    r"\s(?:href|src|action|formaction|srcset|data|poster|background|cite|manifest|ping|"
    r'xlink:href)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))',
    re.IGNORECASE,
)
TAG_RE = re.compile(r"<[a-zA-Z][^>]*>")
FORBIDDEN_MARKUP_RE = re.compile(
    r"<\s*(?:script|iframe|object|embed|frame|applet|base)\b|\bon[a-z]+\s*=\s*[\"']|"
    r"http-equiv\s*=\s*[\"']?refresh|javascript:",
    re.IGNORECASE,
)


def header_problems(headers: object) -> list[str]:
    """What is wrong with a response's security headers (empty: all good)."""
    get = headers.get  # type: ignore[attr-defined]
    problems = []
    csp = get("Content-Security-Policy", "")
    directives = [d.strip() for d in csp.split(";")]
    if "default-src 'none'" not in directives:
        problems.append(f"CSP without default-src 'none': {csp!r}")
    if "script-src" in csp:
        problems.append(f"CSP allows scripts: {csp!r}")
    if "frame-ancestors 'none'" not in directives:
        problems.append("CSP without frame-ancestors 'none'")
    expected = {
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    for name, value in expected.items():
        if get(name) != value:
            problems.append(f"{name}: {get(name)!r}")
    policy = get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "interest-cohort=()"):
        if feature not in policy:
            problems.append(f"Permissions-Policy lacks {feature}")
    if get("Server"):
        problems.append("Server header sent")
    return problems


def page_problems(body: str) -> list[str]:
    """Scripts, inline handlers and URLs that leave the portal's own origin."""
    problems = [f"forbidden markup {m.group(0)!r}" for m in FORBIDDEN_MARKUP_RE.finditer(body)]
    for tag in TAG_RE.findall(body):
        for groups in URL_ATTRS_RE.findall(tag):
            url = next((g for g in groups if g), "").strip()
            if not url or url.startswith("#"):
                continue
            if not url.startswith("/") or url.startswith(("//", "/\\")):
                problems.append(f"URL not on this origin: {url!r} in {tag[:200]!r}")
    return problems


@dataclass
class ResponseWatch:
    """Records every response the app sends; `check` fails the test on any problem."""

    problems: list[str]
    html_pages: int = 0
    responses: int = 0

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems[:20])


def watch_responses(app: Flask) -> ResponseWatch:
    """Check the security headers of every response and scan every HTML page for scripts and
    foreign URLs. Runs after the app's own hooks have set the headers."""
    watch = ResponseWatch(problems=[])
    original = app.process_response

    def process_response(response):  # type: ignore[no-untyped-def]
        response = original(response)
        from flask import request

        watch.responses += 1
        where = f"{request.method} {request.path} -> {response.status_code}"
        watch.problems.extend(f"{where}: {p}" for p in header_problems(response.headers))
        if (
            response.mimetype == "text/html"
            and response.is_sequence
            and not response.direct_passthrough
        ):
            watch.html_pages += 1
            body = response.get_data(as_text=True)
            watch.problems.extend(f"{where}: {p}" for p in page_problems(body))
        return response

    app.process_response = process_response  # type: ignore[method-assign]
    app.extensions["tests.response_watch"] = watch
    return watch


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)
