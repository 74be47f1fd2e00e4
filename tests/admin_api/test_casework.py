"""Casework: severity from the decision, incidents grouped per member of staff, the review workflow and who may
see what (DPO, DSL, IT, viewer), "who is P-XXXX?", on SQLite and PostgreSQL through the real app."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from admin_api import accounts, config_store, severity
from admin_api.models import AuditEntry, Incident
from admin_api.models import Event as StoredEvent
from admin_api.severity import severity_of
from tests.support.admin import PASSWORD, csrf_of
from tests.support.stored_events import SAFEGUARDING, SPECIAL, TOOL_BLOCK, new_event, seed

SIMS_CSV = ("Legal Surname,Legal Forename,Preferred Surname,Preferred Forename,DOB,UPN\r\n"
            "O'Brien,Zoë,O'Brien,Zoe,14/03/2013,\r\nOkafor,Chidi,Okafor,Chidi,02/09/2012,\r\n")


@pytest.mark.parametrize(("decision", "expected"), [
    (("block", ["special_category_with_identifier"], {"PUPIL": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1}),
     severity.SAFEGUARDING),
    (("block", ["special_category"], {"SPECIAL_CATEGORY:SAFEGUARDING": 1}), severity.SAFEGUARDING),
    (("block", ["special_category_with_identifier"], {"PUPIL": 1, "SPECIAL_CATEGORY:HEALTH": 1}),
     severity.SPECIAL_CATEGORY),
    # monitor mode forwards it, but the DPO still needs to see what would have been blocked
    (("allow", ["monitor_only", "would_block", "special_category_with_identifier"],
      {"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1}), severity.SPECIAL_CATEGORY),
    (("redact", ["identifier_redacted"], {"PUPIL": 2, "UK_UPN": 1}), severity.IDENTIFIERS),
    (("block", ["policy_block"], {"UK_NHS": 1}), severity.IDENTIFIERS),
    (("block", ["tool_blocked"], {}), severity.UNAPPROVED_TOOL),
    (("block", ["analysis_timeout"], {}), severity.FAIL_CLOSED),
    (("block", ["unreadable_body", "bad_base64"], {}), severity.FAIL_CLOSED),
    (("block", ["something_new"], {}), severity.FAIL_CLOSED),
    (("allow", [], {"SPECIAL_CATEGORY:SEN": 1}), severity.NONE),  # "strategies for a pupil with dyslexia"
    (("allow", [], {}), severity.NONE),
])
def test_severity_follows_the_decision(decision, expected):
    assert severity_of(*decision) == expected


@pytest.fixture
def as_role(as_role, people):
    """Signs in as one of `people` (an account per role, and a second DSL)."""
    return as_role


def incidents_of(app) -> list[Incident]:
    with app.state.db.session() as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_ingest_stores_severity_and_groups_events_per_person_within_an_hour(app, client, proxy_token):
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    events = [
        new_event(time=now, user="t.jones"),
        new_event(time=now + timedelta(minutes=40), user="t.jones", **SPECIAL),
        new_event(time=now + timedelta(minutes=90), user="t.jones", **SAFEGUARDING),  # 50 min after the last
        new_event(time=now + timedelta(hours=4), user="t.jones"),  # quiet for over an hour: a new incident
        new_event(time=now + timedelta(minutes=5), user="a.khan", **TOOL_BLOCK),
        new_event(time=now + timedelta(minutes=6), user=None, client_addr="10.0.9.9", action="allow", reasons=[],
                   entities={}),  # nothing to review: no incident
    ]
    body = {"events": [e.model_dump(mode="json") for e in events]}
    headers = {"Authorization": f"Bearer {proxy_token}"}
    assert client.post("/api/v1/events", json=body, headers=headers).json() == {"accepted": 6, "duplicates": 0}
    # a re-delivered batch changes nothing: no double counts, no new incident
    assert client.post("/api/v1/events", json=body, headers=headers).json() == {"accepted": 0, "duplicates": 6}

    found = [(i.user, i.events, i.severity, i.status) for i in incidents_of(app)]
    assert sorted(found) == sorted([
        ("t.jones", 3, severity.SAFEGUARDING, "new"), ("t.jones", 1, severity.IDENTIFIERS, "new"),
        ("a.khan", 1, severity.UNAPPROVED_TOOL, "new")])
    with app.state.db.session() as session:
        stored = {e.event_id: (e.severity, e.incident_id) for e in session.scalars(select(StoredEvent))}
    assert stored[events[2].event_id][0] == severity.SAFEGUARDING
    assert stored[events[0].event_id][1] == stored[events[2].event_id][1] != stored[events[3].event_id][1]
    assert stored[events[5].event_id] == (severity.NONE, None)


def test_severity_is_filterable_and_counted_in_the_statistics(app, client, users, proxy_token):
    day = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    events = [new_event(time=day, **SAFEGUARDING), new_event(time=day, **SPECIAL), new_event(time=day, **SPECIAL),
              new_event(time=day, **TOOL_BLOCK), new_event(time=day)]
    client.post("/api/v1/events", json={"events": [e.model_dump(mode="json") for e in events]},
                headers={"Authorization": f"Bearer {proxy_token}"})
    listed = client.get("/api/v1/events", params={"severity": 4}, auth=users["dpo"]).json()["items"]
    assert sorted(e["event_id"] for e in listed) == sorted(str(e.event_id) for e in events[1:3])
    assert {e["severity"] for e in listed} == {4} and all(e["incident_id"] for e in listed)
    expected = {"safeguarding": 1, "special_category": 2, "identifiers": 1, "unapproved_tool": 1,
                "fail_closed": 0, "none": 0}
    start = (day - timedelta(days=1)).replace(hour=0).isoformat()
    # whole days from the roll-ups, with and without a filter only the event scan answers, and partial days
    for params in ({"start": start}, {"start": start, "tool": "chatgpt"}, {"start": day.isoformat()}):
        stats = client.get("/api/v1/stats", params=params, auth=users["viewer"]).json()
        counts = {g["key"]: g["allow"] + g["redact"] + g["block"] for g in stats["by_severity"]}
        wanted = expected if "tool" not in params else expected | {"unapproved_tool": 0}
        assert counts == wanted, params
        assert [g["key"] for g in stats["by_severity"]][:5] == [severity.NAMES[level] for level in severity.LEVELS]


def test_who_sees_which_incident(app, as_role):
    seed(app, new_event(user="safe.teacher", **SAFEGUARDING), new_event(user="sen.teacher", **SPECIAL),
         new_event(user="it.teacher", **TOOL_BLOCK))
    by_user = {i.user: i.id for i in incidents_of(app)}
    dpo, dsl, it, viewer = (as_role(r) for r in ("dpo", "dsl", "it", "viewer"))
    assert all(f"/incidents/{n}\"" in dpo.get("/incidents").text for n in by_user.values())
    listing = dsl.get("/incidents").text
    assert f'/incidents/{by_user["safe.teacher"]}"' in listing
    assert f'/incidents/{by_user["sen.teacher"]}"' not in listing
    assert dsl.get(f"/incidents/{by_user['sen.teacher']}").status_code == 404
    page = dsl.get(f"/incidents/{by_user['safe.teacher']}").text
    assert "told me about bruises at home" in page and "Safeguarding" in page
    for other in (it, viewer):
        assert other.get("/incidents").status_code == 403
        assert other.get(f"/incidents/{by_user['safe.teacher']}").status_code == 403
    # the DPO escalates the SEN incident to the DSL, who can then work it
    sen = by_user["sen.teacher"]
    token = csrf_of(dpo.get(f"/incidents/{sen}").text)
    assert dpo.post(f"/incidents/{sen}", data={"status": "escalated", "csrf_token": token},
                    follow_redirects=False).status_code == 303
    assert "<mark>[PUPIL_1]</mark> with dyslexia" in dsl.get(f"/incidents/{sen}").text
    # the tool block says so rather than showing an empty excerpt
    assert "stopped before its text was read" in dpo.get(f"/incidents/{by_user['it.teacher']}").text


def test_review_workflow_is_audited_and_false_positives_count_per_rule(app, as_role):
    seed(app, new_event(user="a.teacher", **SPECIAL), new_event(user="b.teacher", **SPECIAL),
         new_event(user="c.teacher", entities={"PERSON": 1}))
    first, second, third = (i.id for i in incidents_of(app))
    dpo = as_role("dpo")
    token = csrf_of(dpo.get(f"/incidents/{first}").text)
    refused = dpo.post(f"/incidents/{first}", data={"status": "closed", "csrf_token": token})
    assert refused.status_code == 400 and "Choose an outcome" in refused.text
    for step in ({"status": "in_review", "assignee": "dsl"},
                 {"status": "closed", "outcome": "spoke_to_staff", "assignee": "dsl"}):
        assert dpo.post(f"/incidents/{first}", data=step | {"csrf_token": token},
                        follow_redirects=False).status_code == 303
    note = "Spoke to A. Teacher about the IEP."
    dpo.post(f"/incidents/{first}/notes", data={"text": note, "csrf_token": token})
    page = dpo.get(f"/incidents/{first}").text
    assert "Spoke to the member of staff" in page and "Spoke to A. Teacher about the IEP." in page
    for incident in (second, third):
        dpo.post(f"/incidents/{incident}", data={"status": "closed", "outcome": "false_positive",
                                                 "csrf_token": token})
    assigning_it = dpo.post(f"/incidents/{first}", data={"assignee": "it", "csrf_token": token})
    assert assigning_it.status_code == 400  # casework stays with the DPO and DSL

    with app.state.db.session() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.target == str(first),
                                                                AuditEntry.action.like("incident.%"))
                                       .order_by(AuditEntry.id)))
    changes = [e.detail for e in entries if e.action == "incident.update"]
    assert changes[0] == {"status": ["new", "in_review"], "assignee": [None, "dsl"]}
    assert changes[1] == {"status": ["in_review", "closed"], "outcome": [None, "spoke_to_staff"]}
    assert any(e.action == "incident.note" and e.detail == {"characters": len(note)} for e in entries)
    audit_page = dpo.get("/audit").text
    assert "Status: In review → Closed" in audit_page and "Outcome: — → Spoke to the member of staff" in audit_page
    assert "{" not in audit_page[audit_page.index('id="audit"'):]  # readable, not a Python or JSON dump

    table = dpo.get("/incidents/false-positives").text
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)</td>', table))
    assert rows == {"Pupil&#39;s name": "1", "Special category: Special educational needs": "1",
                    "Person&#39;s name": "1"}


def test_dpo_dashboard_leads_with_a_safeguarding_block_among_5000_events(app, as_role):
    now = datetime.now(UTC)
    kinds = [dict(), dict(**TOOL_BLOCK), dict(**SPECIAL), dict(action="allow", reasons=[], entities={}),
             dict(action="block", reasons=["analysis_timeout"], entities={})]
    tools = ("chatgpt", "gemini", "claude", "copilot", "deepseek", "grok")
    events = [new_event(**({"time": now - timedelta(minutes=2 * i), "user": f"staff{i % 40}",
                             "department": f"Dept {i % 17}", "tool": tools[i % 6]} | kinds[i % 5]))
              for i in range(4999)]
    hidden = new_event(time=now - timedelta(days=5), user="quiet.teacher", tool="perplexity", **SAFEGUARDING)
    events.insert(2500, hidden)
    with app.state.db.session() as session:
        from admin_api.store import store_events
        for start in range(0, len(events), 500):
            store_events(session, events[start:start + 500])
        session.commit()
    page = as_role("dpo").get("/?days=7").text
    review = page[page.index('id="needs-review"'):page.index("</section>", page.index('id="needs-review"'))]
    first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", review, re.S).group(1)
    assert "sev-safeguarding" in first_row and "quiet.teacher" in first_row
    # every tool and data type is on the dashboard: 17 departments, 6 tools in charts with "and N more" or tables
    assert page.index('id="needs-review"') < page.index('id="chart-timeline"')
    for department in (f"Dept {n}" for n in range(17)):
        assert f'<th scope="row">{department}</th>' in page
    assert "Perplexity" in page and "Special category: Safeguarding / child protection" in page


def test_dsl_re_identifies_a_pupil_of_their_incident_from_the_mis_export(app, as_role):
    with app.state.db.session() as session:
        config_store.store_roster_upload(session, SIMS_CSV.encode(), app.state.roster_key, "setup")
        session.commit()
        zoe = config_store.find_pupil_refs(session, app.state.roster_key, "Zoe O'Brien")
        chidi = config_store.find_pupil_refs(session, app.state.roster_key, "Chidi Okafor")
    seed(app, new_event(user="safe.teacher", pupil_refs=zoe, **SAFEGUARDING),
         new_event(user="sen.teacher", pupil_refs=chidi, **SPECIAL))
    dsl = as_role("dsl")
    form = dsl.get(f"/pupils/identify?ref={zoe[0]}").text
    upload = {"export": ("sims.csv", SIMS_CSV.encode("utf-8"), "text/csv")}
    answer = dsl.post("/pupils/identify", data={"ref": zoe[0], "csrf_token": csrf_of(form)}, files=upload)
    assert answer.status_code == 200 and "Zoe O&#39;Brien" in answer.text and "14/03/2013" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    # Chidi is only in a special-category incident the DSL does not work: refused, and nothing is looked up
    refused = dsl.post("/pupils/identify", data={"ref": chidi[0], "csrf_token": csrf_of(form)}, files=upload)
    assert refused.status_code == 403 and "Okafor" not in refused.text
    assert as_role("it").get("/pupils/identify").status_code == 403
    dpo = as_role("dpo")
    token = csrf_of(dpo.get("/pupils/identify").text)
    anyone = dpo.post("/pupils/identify", data={"ref": chidi[0], "csrf_token": token}, files=upload)
    assert anyone.status_code == 200 and "Chidi Okafor" in anyone.text
    not_an_export = dpo.post("/pupils/identify", data={"ref": chidi[0], "csrf_token": token},
                             files={"export": ("x.csv", b"nothing,here\r\n1,2\r\n", "text/csv")})
    assert not_an_export.status_code == 400 and "could not be read" in not_an_export.text

    with app.state.db.session() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "pupil.reidentify")))
        dump = repr([(e.target, e.detail) for e in session.scalars(select(AuditEntry))])
    assert [(e.username, e.target, e.detail) for e in entries] == [
        ("dsl", zoe[0], {"matched": 1}), ("dpo", chidi[0], {"matched": 1})]
    assert "Zo" not in dump.replace("Zoe", "") and "Okafor" not in dump and "2013" not in dump


def test_a_new_dsl_account_can_be_created_from_the_users_page(app, as_role):
    dpo = as_role("dpo")
    token = csrf_of(dpo.get("/users").text)
    assert "Designated Safeguarding Lead" in dpo.get("/users").text
    made = dpo.post("/users", data={"username": f"dsl-{uuid.uuid4().hex[:6]}", "password": "long enough password",
                                    "role": "dsl", "csrf_token": token}, follow_redirects=False)
    assert made.status_code in (200, 303)


def test_who_sent_it_by_member_of_staff_and_department(app, as_role):
    seed(app, new_event(user="T.Jones", department="Science", **SAFEGUARDING),
         new_event(user="t.jones", department="Science"), new_event(user="a.khan", department="English", **SPECIAL),
         new_event(user="a.khan", department="English", **SPECIAL), new_event(user="c.ode", department="English"))
    dpo = as_role("dpo")
    staff = dpo.get("/senders/staff").text
    table = staff[staff.index('id="senders"'):]
    rows = [(re.search(r'<th scope="row">([^<]+)</th>', row).group(1), re.findall(r'<td class="num">([^<]+)</td>', row))
            for row in re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S)]
    assert rows == [
        ("T.Jones", ["1", "·", "·", "·", "·"]), ("a.khan", ["·", "2", "·", "·", "·"]),
        ("c.ode", ["·", "·", "1", "·", "·"]), ("t.jones", ["·", "·", "1", "·", "·"])]
    departments = dpo.get("/senders/departments").text
    assert departments.index(">Science<") < departments.index(">English<")
    # the events filter matches staff names whatever their case
    events = dpo.get("/events", params={"user": "t.jones"}).text
    assert 'id="event-count">2 events' in events
    assert as_role("dsl").get("/senders/staff").status_code == 403


def test_the_dpo_is_asked_to_set_up_alerts_until_both_contacts_confirm(app, as_role):
    from admin_api import alerts

    dpo = as_role("dpo")
    assert "Alerts are not confirmed for the Designated Safeguarding Lead and the Data Protection Officer" in \
        dpo.get("/").text
    with app.state.db.session() as session:
        tokens = [alerts.set_contact(session, role, name, f"{role}@school.test", "test")
                  for role, name in (("dsl", "Dee"), ("dpo", "Dai"))]
        session.commit()
        for token in tokens:
            alerts.confirm_contact(session, token)
        session.commit()
    assert 'id="setup-alerts"' not in dpo.get("/").text
    assert 'id="setup-alerts"' not in as_role("dsl").get("/").text
