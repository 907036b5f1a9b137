"""Second-reader security review: reuse the console's and the portal's fixtures."""

from tests.portal.conftest import intake_reviewer, portal_app  # noqa: F401
from tests.reviewer.conftest import app, world  # noqa: F401
