"""Use-case errors that escape a view become friendly 4xx pages, after a rollback."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from werkzeug.exceptions import BadRequest, Conflict, Forbidden, NotFound

from core.errors import AccessDenied, DomainError
from core.errors import Conflict as ConflictError
from core.errors import NotFound as NotFoundError
from crypto.errors import CryptoError


def install_domain_errors(app: Flask) -> None:
    """Map DomainError subclasses (and CryptoError) to 4xx pages; the transaction rolls back."""

    def rollback() -> None:
        database = g.get("db")
        if database is not None:
            database.rollback()

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Any:
        rollback()
        if isinstance(error, NotFoundError):
            return app.handle_http_exception(NotFound())
        if isinstance(error, AccessDenied):
            return app.handle_http_exception(Forbidden())
        if isinstance(error, ConflictError):
            return app.handle_http_exception(Conflict())
        return app.handle_http_exception(BadRequest())

    @app.errorhandler(CryptoError)
    def _crypto(_error: CryptoError) -> Any:
        rollback()
        return app.handle_http_exception(Forbidden())
