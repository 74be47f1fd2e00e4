"""The incidents JSON API (/api/v1/incidents): the same casework and the same who-sees-what as the Incidents pages,
audit-logged, documented in the OpenAPI schema; on SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from admin_api.models import AuditEntry

SAFEGUARDING = dict(action="block", reasons=["special_category_with_identifier"],
                    entities={"PUPIL": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1},
                    excerpt="[PUPIL_1] told me about bruises at home")
SPECIAL = dict(action="block", reasons=["special_category_with_identifier"],
               entities={"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1}, excerpt="IEP for [PUPIL_1] with dyslexia")


def _ingest(client, token, *events):  # type: ignore[no-untyped-def]
    reply = client.post("/api/v1/events", json={"events": list(events)}, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text


def _by_user(client, auth) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    reply = client.get("/api/v1/incidents", params={"status": "all"}, auth=auth)
    assert reply.status_code == 200, reply.text
    return {i["user"]: i for i in reply.json()["items"]}


def test_each_role_sees_the_incidents_it_works_and_no_more(client, users, proxy_token, make_event):
    _ingest(client, proxy_token, make_event(user="safe.teacher", **SAFEGUARDING),
            make_event(user="sen.teacher", **SPECIAL), make_event(user="upn.teacher"))
    dpo = _by_user(client, users["dpo"])
    assert {u: i["severity"] for u, i in dpo.items()} == {
        "safe.teacher": "safeguarding", "sen.teacher": "special_category", "upn.teacher": "identifiers"}
    listing = client.get("/api/v1/incidents", auth=users["dpo"]).json()
    assert [i["user"] for i in listing["items"]] == ["safe.teacher", "sen.teacher", "upn.teacher"]  # most serious
    assert listing["total"] == 3

    dsl = _by_user(client, users["dsl"])
    assert set(dsl) == {"safe.teacher"}
    detail = client.get(f"/api/v1/incidents/{dsl['safe.teacher']['id']}", auth=users["dsl"]).json()
    assert [e["excerpt"] for e in detail["recent_events"]] == ["[PUPIL_1] told me about bruises at home"]
    assert detail["recent_events"][0]["pupil_refs"] == ["P-AAAA1111", "P-BBBB2222"]
    # another's incident is as absent as one that does not exist
    sen = dpo["sen.teacher"]["id"]
    assert client.get(f"/api/v1/incidents/{sen}", auth=users["dsl"]).status_code == 404
    assert client.patch(f"/api/v1/incidents/{sen}", json={"status": "in_review"}, auth=users["dsl"]).status_code == 404
    assert client.get("/api/v1/incidents/999999", auth=users["dpo"]).status_code == 404
    # IT and a viewer see no incident at all, and none of its text
    for role in ("it", "viewer"):
        assert client.get("/api/v1/incidents", auth=users[role]).status_code == 403
        refused = client.get(f"/api/v1/incidents/{sen}", auth=users[role])
        assert refused.status_code == 403 and "dyslexia" not in refused.text
    assert client.get("/api/v1/incidents").status_code == 401

    # escalated to the DSL, the SEN incident becomes theirs to work
    assert client.patch(f"/api/v1/incidents/{sen}", json={"status": "escalated"}, auth=users["dpo"]).status_code == 200
    assert set(_by_user(client, users["dsl"])) == {"safe.teacher", "sen.teacher"}


def test_casework_through_the_api_is_validated_and_audited(client, users, proxy_token, make_event):
    _ingest(client, proxy_token, make_event(user="safe.teacher", **SAFEGUARDING))
    [incident] = client.get("/api/v1/incidents", auth=users["dsl"]).json()["items"]
    url = f"/api/v1/incidents/{incident['id']}"

    refused = client.patch(url, json={"status": "closed"}, auth=users["dsl"])
    assert refused.status_code == 409 and "Choose an outcome" in refused.json()["detail"]
    assert client.patch(url, json={"assignee": "it-user"}, auth=users["dsl"]).status_code == 409  # not casework
    assert client.patch(url, json={"outcome": "made_up"}, auth=users["dsl"]).status_code == 422
    assert client.patch(url, json={"prompt": "anything"}, auth=users["dsl"]).status_code == 422
    assert client.post(f"{url}/notes", json={"text": "   "}, auth=users["dsl"]).status_code == 409

    updated = client.patch(url, json={"status": "in_review", "assignee": "dsl-user"}, auth=users["dsl"]).json()
    assert (updated["status"], updated["assignee"]) == ("in_review", "dsl-user")
    note = client.post(f"{url}/notes", json={"text": "Referred to the safeguarding team."}, auth=users["dsl"])
    assert note.status_code == 201 and note.json()["author"] == "dsl-user"
    closed = client.patch(url, json={"status": "closed", "outcome": "safeguarding_referral"}, auth=users["dsl"]).json()
    assert (closed["status"], closed["outcome"]) == ("closed", "safeguarding_referral") and closed["closed_at"]
    assert [n["text"] for n in closed["notes"]] == ["Referred to the safeguarding team."]

    # filters: closed ones leave the default ("open") list; by status, severity and assignee, case-insensitively
    assert client.get("/api/v1/incidents", auth=users["dsl"]).json()["total"] == 0
    found = client.get("/api/v1/incidents", params={"status": "closed", "severity": "safeguarding",
                                                    "assignee": "DSL-USER"}, auth=users["dsl"]).json()
    assert [i["id"] for i in found["items"]] == [incident["id"]]
    assert client.get("/api/v1/incidents", params={"severity": "urgent"}, auth=users["dsl"]).status_code == 422

    app = client.app
    with app.state.db.session() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.username == "dsl-user")
                                       .order_by(AuditEntry.id)))
    actions = [e.action for e in entries]
    assert {"incidents.list", "incident.update", "incident.note"} <= set(actions)
    updates = [e.detail for e in entries if e.action == "incident.update"]
    assert updates == [{"status": ["new", "in_review"], "assignee": [None, "dsl-user"]},
                       {"status": ["in_review", "closed"], "outcome": [None, "safeguarding_referral"]}]
    # the log says a note was added, never what it says
    assert [e.detail for e in entries if e.action == "incident.note"] == [{"characters": 34}]


def test_the_incidents_api_is_in_the_openapi_reference(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/incidents"]) == {"get"}
    assert set(paths["/api/v1/incidents/{incident_id}"]) == {"get", "patch"}
    assert set(paths["/api/v1/incidents/{incident_id}/notes"]) == {"post"}
    assert paths["/api/v1/incidents/{incident_id}"]["patch"]["tags"] == ["incidents"]
