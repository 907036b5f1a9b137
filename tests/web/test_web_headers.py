"""Security headers on every kind of response."""

from __future__ import annotations

import pytest
from flask import Flask

from web.headers import content_security_policy, security_headers

EXPECTED_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
#: Every feature switched off, written out here rather than taken from the code under test.
EXPECTED_PERMISSIONS_POLICY = (
    "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), bluetooth=(), "
    "browsing-topics=(), camera=(), display-capture=(), document-domain=(), "
    "encrypted-media=(), fullscreen=(), gamepad=(), geolocation=(), gyroscope=(), hid=(), "
    "idle-detection=(), interest-cohort=(), local-fonts=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), "
    "screen-wake-lock=(), serial=(), usb=(), web-share=(), xr-spatial-tracking=()"
)
#: The whole fixed header set, as literals: a changed value anywhere fails here.
EXPECTED_HEADERS = {
    "Content-Security-Policy": EXPECTED_CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": EXPECTED_PERMISSIONS_POLICY,
    "X-DNS-Prefetch-Control": "off",
    "X-Permitted-Cross-Domain-Policies": "none",
}


@pytest.fixture
def app(make_app) -> Flask:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/")
    def index() -> str:
        return "<p>hello</p>"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    @app.get("/overrides")
    def overrides():
        return "x", 200, {"Cache-Control": "public, max-age=3600", "Server": "leaky/1.0"}

    return app


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/missing", 404),
        ("/boom", 500),
        ("/shared-static/web/base.css", 200),
        ("/overrides", 200),
    ],
)
def test_headers_on_every_response(app: Flask, path: str, status: int) -> None:
    response = app.test_client().get(path)
    assert response.status_code == status
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, name
        assert len(response.headers.getlist(name)) == 1, name
    assert "Server" not in response.headers


def test_the_header_set_is_exactly_the_expected_one() -> None:
    assert security_headers() == EXPECTED_HEADERS
    console = security_headers(allow_same_origin_script=True)
    assert console == {**EXPECTED_HEADERS, "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")}


def test_headers_on_method_not_allowed(app: Flask) -> None:
    response = app.test_client().post("/")
    assert response.status_code == 405
    assert response.headers["X-Frame-Options"] == "DENY"


def test_script_src_only_when_allowed() -> None:
    assert "script-src" not in content_security_policy()
    csp = content_security_policy(allow_same_origin_script=True)
    assert "script-src 'self'" in csp.split("; ")
    assert csp.startswith("default-src 'none'; script-src 'self'")


def test_console_variant_installs_script_src(tmp_path) -> None:
    from web.headers import install_security_headers

    app = Flask("console", root_path=str(tmp_path))
    install_security_headers(app, allow_same_origin_script=True)
    app.add_url_rule("/", "index", lambda: "ok")
    response = app.test_client().get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
