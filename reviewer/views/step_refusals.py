"""Why a case step was refused, in the console's language: the one wording of the handling
panel (reviewer.views.handling) and the casework page (reviewer.views.casework_page).

A use case refuses with InvalidInput naming the field (400), AccessDenied for a step only the
lead may take (403), NotFound for an entry that does not exist (404) or Conflict for a step
the stage does not allow (409); nothing was changed in any of them."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import AccessDenied, InvalidInput, LetterNotReady, NotFound
from web.i18n import join_names

#: What to tell the handler when a field is refused (the use cases name the field).
FIELD_ERRORS = {
    "lead": _l("Choose the case lead from the case team."),
    "category": _l("Choose a category from the list."),
    "message": _l("Write the message to the reporter: where the report goes, or why it is "
                  "not handled."),
    "reason": _l("Give the reason (it is kept for the case team only). A case with open "
                 "corrective actions closes only with one."),
    "owner": _l("Choose an owner from the case team."),
    "due_on": _l("Choose a due date from today on, within five years."),
    "outcome": _l("Write the outcome."),
    "grounds": _l("Explain the grounds for the decision."),
    "reasons": _l("Write the reasons for the finding."),
    "text": _l("Write the note or summary."),
    "interviewee": _l("Say who was interviewed."),
    "files": _l("Choose the file to add (and only for a file entry)."),
    "title": _l("Name the corrective action."),
    "note": _l("Write the follow-up note."),
    "status": _l("Choose the action's status from the list."),
    "role": _l("Choose a role; hand the lead over on its own form."),
    "body": _l("Write the message."),
}
STAGE_ERROR = _l("This step is not possible in the case's current stage. The page shows "
                  "what can be done now.")
LEAD_ERROR = _l("Only the case lead can take this step.")
#: A refer or not-admissible decision posted with the acceptance letter unchanged (a browser
#: without JavaScript does not swap the template when the decision is ticked).
ACCEPTANCE_LETTER_ERROR = _l("This is the letter for an accepted report, so it was not sent. "
                             "It has been replaced with the template for the decision you "
                             "chose: complete it and send it again.")


def refusal(exc: Exception, errors: Mapping[str, str] | None = None) -> tuple[str, int]:
    """The message and HTTP status for a refused step (`errors`: the step's own messages for
    refused fields, before FIELD_ERRORS)."""
    if isinstance(exc, LetterNotReady):
        message = (_l("Fill in the template's blanks before sending: %(blanks)s. Replace "
                      "each with what the reporter should read.",
                      blanks=join_names(exc.blanks)) if exc.blanks
                   else ACCEPTANCE_LETTER_ERROR)
        return str(message), 400
    if isinstance(exc, InvalidInput):
        return str((errors or {}).get(exc.field or "") or FIELD_ERRORS.get(
            exc.field or "", _l("Check the form and try again."))), 400
    if isinstance(exc, AccessDenied):
        return str(LEAD_ERROR), 403
    if isinstance(exc, NotFound):
        return _("That entry does not exist."), 404
    return str(STAGE_ERROR), 409
