"""The console's app factory: configuration, hooks, blueprints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect

import web
from core.config import Config
from core.services import Services, build_services
from reviewer import labels, refusals, session
from reviewer.console import EXTENSION_KEY, Console
from reviewer.views import (
    admin,
    admin_changes,
    audit_log,
    auth,
    case_file,
    cases,
    casework_page,
    handling,
    history,
    identity,
    inbox,
    staff_intake,
    statistics,
)

HERE = Path(__file__).resolve().parent


def create_app(config: Config, *, services: Services | None = None) -> Flask:
    """Build the console for `config` (`services` injectable for tests)."""
    services = services if services is not None else build_services(config)
    console = Console(config=config, services=services)
    app = Flask(__name__)
    secure = console.secure_cookies
    app.config.update(
        SECRET_KEY=services.keyring.cookie_key,
        # Flask's signed cookie holds only the CSRF token and the language choice.
        SESSION_COOKIE_NAME="__Host-candor-console-prefs" if secure else "candor-console-prefs",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,  # Referrer-Policy: no-referrer; SameSite=Strict instead
        MAX_FORM_MEMORY_SIZE=64 * 1024,
    )
    app.extensions[EXTENSION_KEY] = console
    web.install_form_limits(app)
    web.install_row_ids(app)
    web.install_database(app, config.database_url, pool_size=config.database_pool_size,
                         statistics_day=lambda: services.clock.statistics_day())
    app.register_blueprint(web.blueprint)
    # The console's catalog first, then the shared web/ catalog (base templates, error pages).
    catalogs = [HERE / "translations", Path(web.__file__).resolve().parent / "translations"]
    web.init_babel(app, translations_dir=";".join(str(d) for d in catalogs if d.is_dir()))
    web.install_security_headers(app)
    web.install_error_pages(app, "reviewer/error.html", messages={  # in the console's frame
        # Only a document the server cannot make (PDF without Pango) answers 503 today; the
        # log says what is missing (reviewer.pdf).
        503: (_l("This cannot be done on this server"),
              _l("Something this page needs is not installed on the server. Ask its "
                 "operator: the console's log names what is missing.")),
    })
    csrf = CSRFProtect(app)
    app.jinja_env.globals["labels"] = labels
    # The instance's deadlines, as the statistics and the review report name them.
    app.jinja_env.globals["acknowledge_days"] = config.acknowledge_days
    app.jinja_env.globals["feedback_months"] = config.feedback_months
    # File sizes in the console's language ("Bytes" stayed English in Chinese pages).
    web.install_file_sizes(app)
    web.install_reporter_dates(app, services.clock.precision)
    session.install(app)
    refusals.install_refusal_log(app)  # after install_database: logged before the commit
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(inbox.blueprint)
    app.register_blueprint(cases.blueprint)
    app.register_blueprint(case_file.blueprint)
    app.register_blueprint(handling.blueprint)
    app.register_blueprint(casework_page.blueprint)
    app.register_blueprint(history.blueprint)
    app.register_blueprint(staff_intake.blueprint)
    app.register_blueprint(identity.blueprint)
    app.register_blueprint(admin.blueprint)
    app.register_blueprint(admin_changes.blueprint)
    app.register_blueprint(audit_log.blueprint)
    app.register_blueprint(statistics.blueprint)
    csrf.exempt(cases.reply)  # streamed upload: the view checks the token itself
    csrf.exempt(casework_page.evidence)  # likewise

    @app.get("/")
    def index() -> Any:
        """Send each role to its landing page."""
        auth_state = g.get("auth")
        if auth_state is None:
            return redirect(url_for("auth.login"))
        return redirect(session.home_url(auth_state.reviewer.role))

    return app
