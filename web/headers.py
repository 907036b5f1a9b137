"""Security headers set on every response of both apps."""

from __future__ import annotations

from flask import Flask, Response

# Both apps serve only same-origin HTML, CSS and (console only) script; nothing else is needed.
_CSP_BASE = (
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
)

# Every powerful feature is switched off: neither app needs any of them, and a denied feature
# cannot be abused by injected markup.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "battery",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "document-domain",
        "encrypted-media",
        "fullscreen",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "web-share",
        "xr-spatial-tracking",
    )
)


def content_security_policy(*, allow_same_origin_script: bool = False) -> str:
    """Return the Content-Security-Policy value used by :func:`install_security_headers`."""
    directives = list(_CSP_BASE)
    if allow_same_origin_script:
        directives.insert(1, "script-src 'self'")
    return "; ".join(directives)


def security_headers(*, allow_same_origin_script: bool = False) -> dict[str, str]:
    """Return the fixed header set, name to value."""
    return {
        "Content-Security-Policy": content_security_policy(
            allow_same_origin_script=allow_same_origin_script
        ),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        # Pages may hold decrypted content or a receipt code: nothing may be kept by the
        # browser or an intermediary. Static files follow the same rule for simplicity.
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "X-DNS-Prefetch-Control": "off",
        "X-Permitted-Cross-Domain-Policies": "none",
    }


def install_security_headers(app: Flask, *, allow_same_origin_script: bool = False) -> None:
    """Set the security headers on every response of ``app``.

    The hook runs for views, static files and error pages alike (Flask runs after_request
    functions for responses produced by error handlers too). Values already set by a view are
    overwritten: the policy lives in this one place. ``allow_same_origin_script`` adds
    ``script-src 'self'`` for the console's optional enhancement script; the portal must
    leave it off.
    """
    headers = security_headers(allow_same_origin_script=allow_same_origin_script)

    @app.after_request
    def _set_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers[name] = value
        # The WSGI server may add its own Server header after us (`candor serve` stops
        # gunicorn's; nginx needs server_tokens off); the app itself never sends one.
        response.headers.pop("Server", None)
        return response
