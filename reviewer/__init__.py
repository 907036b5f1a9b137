"""The reviewer console: a Flask app for case handlers, administrators and auditors.

`create_app(config)` builds it; `candor serve console` serves it (127.0.0.1 by default).
"""

from reviewer.app import create_app

__all__ = ["create_app"]
