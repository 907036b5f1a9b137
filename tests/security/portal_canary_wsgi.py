"""WSGI entry point for the canary tests' gunicorn server: the portal of the instance named by
CANDOR_DATA_DIR / CANDOR_DATABASE_URL (set up beforehand like `candor init` does)."""

from core.config import load_config
from portal import create_app

application = create_app(load_config())
