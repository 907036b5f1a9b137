"""Flask glue shared by the submitter portal and the reviewer console.

Security headers, client-metadata stripping, language selection, streaming uploads,
response padding, error pages, and the shared templates and stylesheet. Imports flask
(never ``portal`` or ``reviewer``). A typical app factory::

    app.register_blueprint(web.blueprint)            # templates "web/...", base.css
    web.install_database(app, config.database_url)   # a unit of work per request (db())
    web.init_babel(app, translations_dir=...)
    web.install_security_headers(app)
    web.install_error_pages(app)
    web.install_reporter_dates(app, precision)       # reporter dates: day or "week of"
    web.install_file_sizes(app)                      # file sizes in the page's language
    web.install_response_padding(app)                # portal
    web.install_no_logging(app)                      # portal
    app.wsgi_app = web.StripClientMetadata(app.wsgi_app, company_networks=[...])
"""

from web.blueprint import blueprint
from web.csrf import validate_csrf_token
from web.database import install_database
from web.dates import install_reporter_dates, reporter_day_label
from web.errors import install_error_pages
from web.forms import as_choices
from web.headers import install_security_headers, security_headers
from web.i18n import (
    current_language,
    html_lang,
    init_babel,
    language_choices,
    safe_next,
    set_language,
    switch_language,
)
from web.metadata import (
    ENVIRON_KEY,
    StripClientMetadata,
    from_company_network,
    install_no_logging,
)
from web.padding import install_response_padding
from web.requests import install_form_limits
from web.routing import install_row_ids
from web.sizes import file_size, install_file_sizes
from web.uploads import (
    FieldPart,
    FilePart,
    MalformedForm,
    StreamingFormParser,
    UploadError,
    UploadTooLarge,
)

__all__ = [
    "ENVIRON_KEY",
    "FieldPart",
    "FilePart",
    "MalformedForm",
    "StreamingFormParser",
    "StripClientMetadata",
    "UploadError",
    "UploadTooLarge",
    "as_choices",
    "install_form_limits",
    "blueprint",
    "current_language",
    "from_company_network",
    "html_lang",
    "init_babel",
    "install_database",
    "install_error_pages",
    "install_reporter_dates",
    "install_no_logging",
    "install_response_padding",
    "install_file_sizes",
    "file_size",
    "install_row_ids",
    "install_security_headers",
    "language_choices",
    "reporter_day_label",
    "safe_next",
    "security_headers",
    "set_language",
    "switch_language",
    "validate_csrf_token",
]
