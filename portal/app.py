"""The portal's application factory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect

import web
from core.config import Config
from core.services import Services, build_services
from portal.state import EXTENSION_KEY, PortalState
from portal.views import followup, pages, submit

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
WEB_TRANSLATIONS = Path(web.__file__).resolve().parent / "translations"


def create_app(config: Config, *, services: Services | None = None) -> Flask:
    """Build the portal for `config` (services may be injected by tests)."""
    services = services or build_services(config)
    app = Flask(__name__)
    secure = not config.insecure_dev_cookies
    app.config.update(
        SECRET_KEY=services.keyring.cookie_key,
        # Slow connections (Tor) and long reports: a form stays valid for a day.
        WTF_CSRF_TIME_LIMIT=int(timedelta(days=1).total_seconds()),
        # Flask-WTF's HTTPS check compares the Referer, which the portal never receives
        # (Referrer-Policy: no-referrer, and the metadata filter drops it). The token is
        # bound to a SameSite=Strict session cookie instead.
        WTF_CSRF_SSL_STRICT=False,
        SESSION_COOKIE_NAME="__Host-candor-portal" if secure else "candor-portal",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Flask refuses a session cookie older than this. It holds only the CSRF secret and
        # the language, and outlives the form limit on purpose: a form open for days is then
        # recognised as this browser's own (CSRFExpired) and its text given back.
        PERMANENT_SESSION_LIFETIME=timedelta(days=7),
        # Uploads are streamed by web.uploads with the configured limits (the upload views
        # raise the body limit for themselves); every other form is small and never spooled.
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        FOLLOWUP_COOKIE="__Host-candor-followup" if secure else "candor-followup",
    )
    app.extensions[EXTENSION_KEY] = PortalState(services=services)
    web.install_database(app, config.database_url, pool_size=config.database_pool_size,
                         statistics_day=lambda: services.clock.statistics_day())

    web.install_form_limits(app)
    web.install_row_ids(app)
    app.register_blueprint(web.blueprint)
    for views in (pages, submit, followup):
        app.register_blueprint(views.blueprint)
    csrf = CSRFProtect(app)
    # Streamed forms check their CSRF token themselves, before reading any file.
    csrf.exempt(submit.report_submit)
    csrf.exempt(followup.reply)
    web.init_babel(app, translations_dir=f"{TRANSLATIONS};{WEB_TRANSLATIONS}")
    app.jinja_env.globals["from_company_network"] = web.from_company_network
    web.install_reporter_dates(app, services.clock.precision)
    web.install_file_sizes(app)
    web.install_security_headers(app)
    web.install_error_pages(app, "portal/error.html", messages={
        # The portal's budgets are shared by everyone (no address is kept): being refused
        # is never the reporter's own doing.
        429: (_l("This service is busy"),
              _l("Many people are using it right now. Please wait a little and try again.")),
        # Only the portal's text-only forms reach this page with a 413 (werkzeug's limits on
        # their body, a field and the number of fields, web.requests): the upload forms show
        # their own refusal, with the file limits only when files were the problem.
        413: (_l("What you sent is too long"),
              _l("A text field is longer, or the form has more fields, than this page "
                 "accepts. Go back, shorten what you wrote and try again.")),
    })
    web.install_response_padding(app)
    web.install_no_logging(app)
    app.wsgi_app = web.StripClientMetadata(  # type: ignore[method-assign]
        app.wsgi_app, company_networks=config.company_networks,
        trusted_proxies=config.trusted_proxies)
    return app
