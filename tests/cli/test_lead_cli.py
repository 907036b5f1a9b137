"""`candor lead REFERENCE USERNAME`: the operator names the lead of a case whose team cannot
(its lead record changed outside Candor, or the lead's account deactivated)."""

from __future__ import annotations

from sqlalchemy import select, text

from core.audit.log import AuditAction
from core.config import load_config
from core.db import make_engine
from core.models import AuditEvent, Case
from tests.cli.backup_instance import make_instance
from tests.cli.conftest import run


def test_the_operator_names_the_lead(env: dict[str, str]) -> None:
    make_instance(env)  # one case, carol its intake handler
    engine = make_engine(load_config(env).database_url)
    with engine.begin() as c:
        reference = c.execute(select(Case.reference)).scalar_one()
        c.execute(text("UPDATE cases SET lead_tag = NULL"))  # a database writer
    named = run(env, "lead", reference.lower(), "carol")
    assert named.exit_code == 0, named.output
    assert named.output == f"'carol' now leads {reference}.\n"
    with engine.begin() as c:
        assert c.execute(text("SELECT role FROM case_members")).scalar_one() == "lead"
        assert c.execute(text("SELECT lead_tag FROM cases")).scalar_one() is not None
        actors = c.execute(select(AuditEvent.actor_kind).where(
            AuditEvent.action == AuditAction.CASE_LEAD_CHANGED)).scalars().all()
        assert [str(a) for a in actors] == ["system"]
    # Carol leads and can act: the operator does not overrule her.
    working = run(env, "lead", reference, "carol")
    assert working.exit_code == 1 and "carol leads case" in working.output
    with engine.begin() as c:
        c.execute(text("UPDATE cases SET lead_tag = NULL"))  # the writer again
    engine.dispose()
    outsider = run(env, "reviewer", "add", "olga", "--role", "reviewer", "--passphrase-stdin",
                   input="olga's own quartz meadow 7\n")
    assert outsider.exit_code == 0
    refused = run(env, "lead", reference, "olga")  # not on the team
    assert refused.exit_code == 1 and "Choose a member of the case team" in refused.output
    unknown = run(env, "lead", "C-NOPE-NOPE", "carol")
    assert unknown.exit_code == 1 and "no case" in unknown.output
