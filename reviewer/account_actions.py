"""The admin's account actions in the console (deactivate, reset the authenticator, reset
the passphrase, end sessions): what each confirmation page says."""

from __future__ import annotations

from flask_babel import gettext as _

ACTIONS = ("deactivate", "reset-totp", "reset-passphrase", "revoke")


def action_texts(action: str) -> tuple[str, str]:
    """The title and the explanation of the confirmation page of `action` (one of ACTIONS)."""
    return {
        "deactivate": (_("Deactivate this account"),
                       _("The person can no longer log in and their sessions end now. "
                         "This cannot be undone.")),
        "reset-totp": (_("Reset the authenticator app"),
                       _("Their sessions end now. You are shown a new key to hand over in "
                         "private: their next login needs a code from it.")),
        "reset-passphrase": (_("Reset the passphrase"),
                             _("They get a one-time passphrase; their keys and grants are "
                               "deleted. When they log in with it and choose their own "
                               "passphrase, they get a NEW "
                               "key pair: their cases stay unreadable to them until a teammate "
                               "grants them again or an operator runs `candor recover`. "
                               "Unless it is your own account or a deactivated one, "
                               "another administrator must then approve the account again. "
                               "This cannot be undone.")),
        "revoke": (_("End all sessions"), _("Every session of this account ends now.")),
    }[action]
