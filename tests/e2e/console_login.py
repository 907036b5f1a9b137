"""Logging in to the console in a real browser (JavaScript off), in a chosen language."""

from __future__ import annotations

import pyotp

from core.models import Reviewer
from core.staff.accounts import totp_secret
from tests.core.factories import ReviewerHandle

#: The browser locale that goes with each console language.
LOCALE = {"en": "en-GB", "zh_CN": "zh-CN"}


def console_login(browser, url: str, session_factory, services, handle: ReviewerHandle,
                  lang: str):
    """A new browser context (its own cookies), the language chosen, then logged in with
    passphrase and TOTP; returns (context, page)."""
    with session_factory() as s:
        secret = totp_secret(services, s.get(Reviewer, handle.id))
    context = browser.new_context(java_script_enabled=False, locale=LOCALE[lang])
    page = context.new_page()
    page.goto(url + "/login")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")
        page.wait_for_url("**/login")
    page.fill("#username", handle.username)
    page.fill("#passphrase", handle.passphrase)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#login-submit")
    page.wait_for_load_state()
    return context, page
