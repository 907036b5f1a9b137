"""The console's words for every access-log action (the auditor pages), in both languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reviewer.labels import HISTORY

#: Every AuditAction's label; the case history's words first (tests keep the list complete).
ACTIONS = {
    **HISTORY,
    "case:submitter:open": _l("The reporter opened the case"),
    "case:recover": _l("Case opened with the recovery key"),
    "case:identity:withdraw": _l("Identity grant withdrawn (upgrade)"),
    "case:identity:request:read": _l("Identity request read by a custodian"),
    "reviewer:add": _l("Staff account added"),
    "reviewer:deactivate": _l("Staff account deactivated"),
    "reviewer:edit": _l("Staff account's email or display name changed"),
    "notify:warnings": _l("Early warnings mailed to the admins"),
    "reviewer:passphrase:change": _l("Passphrase changed"),
    "reviewer:passphrase:reset": _l("Passphrase reset"),
    "reviewer:totp:enrol": _l("Authenticator app set up"),
    "reviewer:totp:reset": _l("Authenticator app reset"),
    "reviewer:key:reject": _l("A stored public key failed its check"),
    "reviewer:standing:confirm": _l("An account's record confirmed by the operator"),
    "reviewer:keys:create": _l("Keys created at enrolment"),
    "reviewer:custodian": _l("Identity custodian changed"),
    "session:login": _l("Logged in"),
    "session:login:fail": _l("Login failed"),
    "session:logout": _l("Logged out"),
    "session:revoke": _l("Session ended by an administrator"),
    "session:reauth": _l("Passphrase entered again"),
    "category:change": _l("Intake routing changed"),
    "category:add": _l("Category added"),
    "category:edit": _l("Category edited"),
    "category:move": _l("Category moved"),
    "category:deactivate": _l("Category deactivated"),
    "category:activate": _l("Category activated"),
    "admin:change:request": _l("Change requested (four eyes)"),
    "admin:change:decide": _l("Change approved or refused (four eyes)"),
    "audit:checkpoint": _l("Checkpoint signed"),
    "audit:read": _l("Access log read"),
    "audit:export": _l("Access log exported"),
    "audit:prove": _l("Proof made"),
    "audit:damaged": _l("Access log found altered"),
}
