"""Alembic migrations, driven by core's metadata. Run them with `candor db upgrade`."""
