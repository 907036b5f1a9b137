"""A TOTP secret as the console shows it: a QR code of its otpauth URI, and the key in groups."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code (no script, no external image)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own markup, no user input


def grouped_secret(secret: str) -> str:
    """The base32 secret in groups of four, easier to type into an app."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
