"""Fixtures for the web package: tiny Flask apps built here, no portal or reviewer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import web


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """Return a factory for a minimal app with the web glue installed."""

    def factory(*, padding: bool = False, **config: Any) -> Flask:
        app = Flask("webtest", root_path=str(tmp_path))
        app.config.update(SECRET_KEY="test-secret", TESTING=True, **config)
        app.register_blueprint(web.blueprint)
        web.init_babel(app, translations_dir=str(tmp_path / "translations"))
        web.install_security_headers(app)
        web.install_error_pages(app)
        if padding:
            web.install_response_padding(app)
        return app

    return factory
