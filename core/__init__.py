"""Candor's domain and storage layer.

`core` holds the SQLAlchemy models, the use cases (plain functions taking an explicit
`Session` and a `Services` bundle), the audit recorder, the blob store and the configuration.
It imports `crypto` and never `flask`: the web apps call into it, not the other way round.
"""
