"""The portal's views, one module per page group, on one blueprint."""

from flask import Blueprint

blueprint = Blueprint("portal", __name__)

# Import for their side effect of registering routes on the blueprint.
from portal.views import followup, pages, submit  # noqa: E402, F401
