"""Who reads a report, on the portal: before sending, the form lists each category's case
handlers and the identity custodians, and the reporter may leave any of them out (they get no
key at all); afterwards the case page says who can read it and when the identity was
disclosed. Finding 5 of the key-custody review: before, the reporter could neither see nor
choose who would read their report."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import Case, CaseGrant, CaseMember, Reviewer
from core.services import Services
from tests.core.factories import add_reviewer, approve_identity
from tests.portal.conftest import csrf_token, login_via, receipt_of


def _form(client: FlaskClient, **fields: object) -> dict[str, object]:
    page = client.get("/report").text
    data: dict[str, object] = {"csrf_token": csrf_token(page), "category": "it_fault",
                               "summary": "The backup job is switched off at night",
                               "what_happened": "Every night since March.",
                               "disclosure": "anonymous"}
    data.update(fields)
    return data


def _team(session_factory, services, intake_reviewer) -> tuple:
    """Two more handlers of it_fault (one with a display name) and a custodian."""
    from core.categories.lookup import set_intake

    mia = add_reviewer(session_factory, services, "mia")
    oz = add_reviewer(session_factory, services, "oz")
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    with transaction(session_factory) as s:
        s.get(Reviewer, oz.id).display_name = "Oz (IT security)"
        set_intake(s, "it_fault", [s.get(Reviewer, i) for i in (intake_reviewer.id, mia.id,
                                                                 oz.id)])
    return mia, oz, keeper


def _holders(session_factory, case_id: int) -> tuple[set[int], set[int]]:
    with session_factory() as s:
        grants = set(s.execute(select(CaseGrant.reviewer_id).where(
            CaseGrant.case_id == case_id, CaseGrant.reviewer_id.is_not(None))).scalars())
        members = set(s.execute(select(CaseMember.reviewer_id).where(
            CaseMember.case_id == case_id)).scalars())
    return grants, members


def _only_case(session_factory) -> int:
    with session_factory() as s:
        return s.execute(select(Case.id)).scalar_one()


def test_the_form_lists_who_each_category_reaches(client: FlaskClient, session_factory,
                                                  services: Services, intake_reviewer):
    mia, oz, keeper = _team(session_factory, services, intake_reviewer)
    page = client.get("/report").text
    section = page[page.index('id="readers-it_fault"'):]
    section = section[:section.index("</div>")]
    assert "mia" in section and "Oz (IT security)" in section and "intake" in section
    assert f'value="it_fault:{oz.id}"' in section
    assert 'id="custodians"' in page and "keeper" in page
    assert 'id="readers-recovery"' in page
    client.get("/language/zh_CN?next=/report")
    chinese = client.get("/report").text
    assert "谁会阅读您反映的问题" in chinese


def test_a_handler_left_out_receives_no_key(client: FlaskClient, session_factory,
                                            services: Services, intake_reviewer):
    mia, oz, keeper = _team(session_factory, services, intake_reviewer)
    # The value for another category is ignored (the form works without JavaScript).
    response = client.post("/report", data=_form(client, exclude=[
        f"it_fault:{mia.id}", f"security:{oz.id}"]), content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    case_id = _only_case(session_factory)
    grants, members = _holders(session_factory, case_id)
    assert mia.id not in grants and mia.id not in members
    assert {intake_reviewer.id, oz.id} <= grants and {intake_reviewer.id, oz.id} <= members


def test_a_custodian_left_out_never_holds_the_identity(client: FlaskClient, session_factory,
                                                       services: Services, intake_reviewer):
    _mia, _oz, keeper = _team(session_factory, services, intake_reviewer)
    response = client.post("/report", data=_form(
        client, disclosure="confidential", name="Lin Wei", exclude=[f"custodian:{keeper.id}"]),
        content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    grants, _members = _holders(session_factory, _only_case(session_factory))
    assert keeper.id not in grants


def test_a_forged_choice_is_refused_and_creates_nothing(client: FlaskClient, session_factory,
                                                        services: Services, intake_reviewer):
    _team(session_factory, services, intake_reviewer)
    for forged in ("it_fault:999999", "it_fault:abc", "it_fault:" + "9" * 40):
        response = client.post("/report", data=_form(client, exclude=[forged]),
                               content_type="multipart/form-data")
        assert response.status_code == 400
        assert "could not be sent" in response.text
    with session_factory() as s:
        assert s.execute(select(Case.id)).first() is None


def test_a_form_with_errors_keeps_the_choices(client: FlaskClient, session_factory,
                                              services: Services, intake_reviewer):
    mia, _oz, _keeper = _team(session_factory, services, intake_reviewer)
    response = client.post("/report", data=_form(client, summary="", exclude=[
        f"it_fault:{mia.id}"]), content_type="multipart/form-data")
    assert response.status_code == 400
    assert re.search(rf'value="it_fault:{mia.id}"\s+checked', response.text)


def test_the_case_page_says_who_reads_and_when_the_identity_was_disclosed(
        client: FlaskClient, session_factory: sessionmaker[Session], services: Services,
        intake_reviewer):
    mia, oz, keeper = _team(session_factory, services, intake_reviewer)
    response = client.post("/report", data=_form(
        client, disclosure="confidential", name="Lin Wei", exclude=[f"it_fault:{mia.id}"]),
        content_type="multipart/form-data")
    case_id = _only_case(session_factory)
    login_via(client, receipt_of(response.text))
    page = client.get("/case").text
    readers = page[page.index('id="readers"'):]
    assert "Oz (IT security)" in readers and "mia" not in readers
    assert 'id="readers-left-out"' in readers and "keeper" in readers
    assert "disclosure-1" not in page
    approve_identity(session_factory, services, oz, keeper, case_id)  # oz asks, keeper approves
    page = client.get("/case").text
    assert 'id="disclosure-1"' in page and "Your identity was disclosed" in page
    client.get("/language/zh_CN?next=/case")
    assert "您的身份已" in client.get("/case").text
