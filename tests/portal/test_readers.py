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

from core.cases.identity_requests import identity_disclosures
from core.db import transaction
from core.models import Case, CaseGrant, CaseMember, Reviewer
from core.services import Services
from tests.core.factories import add_reviewer, approve_identity
from tests.portal.conftest import counts, csrf_token, login_via, post_multipart, receipt_of

#: What the form says when the list of readers it showed is no longer right.
CHANGED = "have changed since you opened this page"

SHOWN_RE = re.compile(r'name="shown" value="([^"]*)"')


def _shown(page: str) -> str:
    """The readers a form page listed, as it sends them back."""
    match = SHOWN_RE.search(page)
    assert match, "no list of readers on the page"
    return match.group(1)


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
    from core.categories.intake_routes import set_intake

    mia = add_reviewer(session_factory, services, "mia")
    oz = add_reviewer(session_factory, services, "oz")
    keeper = add_reviewer(session_factory, services, "keeper", custodian=True)
    with transaction(session_factory) as s:
        s.get(Reviewer, oz.id).display_name = "Oz (IT security)"
        set_intake(s, services.keyring,
                   "it_fault", [s.get(Reviewer, i) for i in (intake_reviewer.id, mia.id, oz.id)])
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
    # A well-formed id not on the list; a malformed value is refused as such
    # (test_refusal_messages.py), not as a change of readers.
    for forged in ("it_fault:999999", "custodian:999999"):
        response = client.post("/report", data=_form(client, exclude=[forged]),
                               content_type="multipart/form-data")
        assert response.status_code == 400
        assert CHANGED in response.text and "has not been sent" in response.text
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
    with session_factory() as s:
        (day,) = identity_disclosures(s, services.keyring, case_id)
    notice = page[page.index('id="disclosure-1"'):]
    notice = notice[:notice.index("</div>")]
    # Dated like the case team's messages on the same page.
    assert f"Your identity was disclosed to the case team on {day.isoformat()}" in notice
    assert page.index('id="disclosure-1"') < page.index('class="thread"')
    client.get("/language/zh_CN?next=/case")
    assert f"您的身份已于 {day.isoformat()} 向调查小组披露" in client.get("/case").text


def test_a_handler_added_after_the_page_was_read_is_not_reached_unseen(
        client: FlaskClient, session_factory, services: Services, intake_reviewer):
    """Someone routed to the category while the reporter was writing: the report is not sent
    to them unseen; the form comes back, text and choices kept, listing them."""
    from core.categories.intake_routes import set_intake

    mia, oz, _keeper = _team(session_factory, services, intake_reviewer)
    page = client.get("/report").text
    data = _form(client, shown=_shown(page), exclude=[f"it_fault:{mia.id}"])
    late = add_reviewer(session_factory, services, "late")
    with transaction(session_factory) as s:
        set_intake(s, services.keyring,
                   "it_fault", [s.get(Reviewer, i)
                                for i in (intake_reviewer.id, mia.id, oz.id, late.id)])
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 409
    assert CHANGED in response.text and "has not been sent" in response.text
    assert f'value="it_fault:{late.id}"' in response.text
    assert re.search(rf'value="it_fault:{mia.id}"\s+checked', response.text)
    assert "The backup job is switched off at night" in response.text
    with session_factory() as s:
        assert s.execute(select(Case.id)).first() is None
    # Sent again from the page that lists them (and leaving them out too): it goes.
    data.update(shown=_shown(response.text), exclude=[f"it_fault:{mia.id}",
                                                      f"it_fault:{late.id}"],
                csrf_token=csrf_token(response.text))
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    grants, members = _holders(session_factory, _only_case(session_factory))
    assert not {mia.id, late.id} & (grants | members)
    assert {intake_reviewer.id, oz.id} <= grants


def test_a_report_stopped_for_new_readers_keeps_no_file(
        client: FlaskClient, session_factory, services: Services, intake_reviewer):
    from core.categories.intake_routes import set_intake

    page = client.get("/report").text
    fields = [(k, str(v)) for k, v in _form(client, shown=_shown(page)).items()]
    late = add_reviewer(session_factory, services, "late")
    with transaction(session_factory) as s:
        set_intake(s, services.keyring,
                   "it_fault", [s.get(Reviewer, i) for i in (intake_reviewer.id, late.id)])
    response = post_multipart(client, "/report", fields,
                              [("attachments", "badge-log.csv", b"door,time\n" * 5000)])
    assert response.status_code == 409
    assert "please choose them again" in response.text
    stored = counts(session_factory, services)
    assert (stored.cases, stored.blobs) == (0, 0)


def test_a_custodian_named_meanwhile_stops_only_a_named_report(
        client: FlaskClient, session_factory, services: Services, intake_reviewer):
    page = client.get("/report").text
    named = _form(client, shown=_shown(page), disclosure="confidential", name="Lin Wei")
    anonymous = _form(client, shown=_shown(page))
    add_reviewer(session_factory, services, "keeper", custodian=True)
    response = client.post("/report", data=named, content_type="multipart/form-data")
    assert response.status_code == 409 and 'id="custodians"' in response.text
    assert "keeper" in response.text
    response = client.post("/report", data=anonymous, content_type="multipart/form-data")
    assert response.status_code == 200, response.text


def test_a_handler_removed_meanwhile_does_not_stop_the_report(
        client: FlaskClient, session_factory, services: Services, intake_reviewer):
    from core.categories.intake_routes import set_intake

    mia, oz, _keeper = _team(session_factory, services, intake_reviewer)
    page = client.get("/report").text
    data = _form(client, shown=_shown(page))
    with transaction(session_factory) as s:
        set_intake(s, services.keyring,
                   "it_fault", [s.get(Reviewer, i) for i in (intake_reviewer.id, oz.id)])
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    grants, _members = _holders(session_factory, _only_case(session_factory))
    assert mia.id not in grants
    # Left out, then removed from the category: the list is shown again, nothing is sent.
    page = client.get("/report").text
    data = _form(client, shown=_shown(page), exclude=[f"it_fault:{oz.id}"])
    with transaction(session_factory) as s:
        set_intake(s, services.keyring, "it_fault", [s.get(Reviewer, intake_reviewer.id)])
    response = client.post("/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and CHANGED in response.text
    assert f'value="it_fault:{oz.id}"' not in response.text


def test_everyone_left_out_still_sends_the_report_to_the_recovery_key_only(
        client: FlaskClient, session_factory, services: Services, intake_reviewer):
    from core.models import Recipient

    mia, oz, _keeper = _team(session_factory, services, intake_reviewer)
    page = client.get("/report").text
    assert 'id="readers-warning"' in page and "only the organisation's recovery key" in page
    response = client.post("/report", data=_form(client, shown=_shown(page), exclude=[
        f"it_fault:{i}" for i in (intake_reviewer.id, mia.id, oz.id)]),
        content_type="multipart/form-data")
    assert response.status_code == 200, response.text
    # Outside tester: the receipt still promised an acknowledgement within 7 days.
    assert 'id="reaches-nobody"' in response.text and "recovery key" in response.text
    assert "will acknowledge your report within" not in response.text
    case_page = client.get(login_via(client, receipt_of(response.text)).location).text
    assert 'id="reaches-nobody"' in case_page
    case_id = _only_case(session_factory)
    assert _holders(session_factory, case_id) == (set(), set())
    with session_factory() as s:
        recipients = set(s.execute(select(CaseGrant.recipient).where(
            CaseGrant.case_id == case_id)).scalars())
    assert Recipient.RECOVERY in recipients


def test_without_a_recovery_key_the_form_says_nobody_could_read_it(
        session_factory, services: Services, intake_reviewer):
    """An instance without an organisation recovery key: the form does not promise one."""
    from dataclasses import replace

    from core.categories.intake_routes import set_intake
    from core.keyring import Keyring
    from portal import create_app

    with transaction(session_factory) as s:
        set_intake(s, services.keyring, "other", [])
    app = create_app(services.config,
                     services=replace(services, keyring=Keyring.generate()))
    page = app.test_client().get("/report").text
    assert 'id="readers-recovery"' not in page
    assert "recovery key" not in page
    other = page[page.index('id="readers-other"'):]
    assert "nobody could read your report" in other[:other.index("</div>")]
    assert "nobody will be able to read it" in page
    assert "nobody could open your name" in page


def test_each_category_is_a_group_of_choices_named_by_its_title(
        client: FlaskClient, session_factory, services: Services, intake_reviewer):
    """Screen readers announce "IT systems and technical faults: ..." with each "leave out"
    checkbox, since the same person may be listed under several categories."""
    with transaction(session_factory) as s:
        s.get(Reviewer, intake_reviewer.id).display_name = "Ada <b>&amp;"
    page = client.get("/report").text
    group = re.search(r'<fieldset class="fieldset readers-category" id="readers-it_fault">\s*'
                      r'<legend class="readers-title"><strong>IT systems and technical faults'
                      r'</strong>: read by Ada &lt;b&gt;&amp;amp;</legend>', page)
    assert group, page[page.index('id="readers"'):][:2000]
    assert '<span class="visually-hidden">Warning:</span>' in page
    client.get("/language/zh_CN?next=/report")
    page = client.get("/report").text
    assert ("<strong>技术故障与信息系统问题</strong>：由 Ada &lt;b&gt;&amp;amp; 阅读</legend>"
            in page)


def test_a_case_whose_team_left_says_nobody_works_on_it(client: FlaskClient, session_factory,
                                                        services: Services, intake_reviewer):
    """Outside tester: a case acknowledged, then left by its whole team, said nothing, and a
    received one blamed the reporter's choices."""
    from core.audit.log import Actor
    from core.models import CaseStatus
    from core.staff.accounts import deactivate_reviewer
    from tests.core.factories import walk_to

    response = client.post("/report", data=_form(client), content_type="multipart/form-data")
    assert response.status_code == 200 and 'id="reaches-nobody"' not in response.text
    receipt = receipt_of(response.text)
    with transaction(session_factory) as s:
        walk_to(s, services, Actor.system(), s.get(Case, _only_case(session_factory)),
                CaseStatus.ACKNOWLEDGED)
    page = client.get(login_via(client, receipt).location).text
    assert 'id="reaches-nobody"' not in page
    with transaction(session_factory) as s:
        deactivate_reviewer(s, services, "intake")
    page = client.get("/case").text
    assert 'id="reaches-nobody"' in page and "they have left" in page
    assert "A case handler has read your report" in page  # the stage is still said
