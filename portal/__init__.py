"""The reporters' portal: landing page, submission, receipt, follow-up. No JavaScript."""

from portal.app import create_app

__all__ = ["create_app"]
