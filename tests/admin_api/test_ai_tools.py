"""AI tools not in the catalogue on the admin side (issue 12): what the proxies recorded shows up per host for the
DPO (connections, blocked, people, profiles, first/last seen), IT approves a host in one step (into the allowlist's
`ai_hosts`, which the proxies fetch), and the central corrections to the AI domain list reach the proxies' config."""
from __future__ import annotations

import re

from detectors.allowlist import load_allowlist


def _post(client, token, *events):
    r = client.post("/api/v1/events", json={"events": list(events)}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def _uncatalogued(make_event, host, action, profile, user, time):
    return make_event(tool="uncatalogued", host=host, path="/", action=action, profile=profile, user=user,
                      reasons=["uncatalogued_ai_tool", "blocked" if action == "block" else "monitor"],
                      entities={}, excerpt="", pupil_refs=[], time=time)


def test_the_dpo_sees_each_uncatalogued_ai_host_with_counts_and_times(client, users, proxy_token, make_event):
    _post(client, proxy_token,
          _uncatalogued(make_event, "tome.app", "block", "pupil", "pupil1", "2026-03-02T09:00:00+00:00"),
          _uncatalogued(make_event, "tome.app", "block", "pupil", "pupil2", "2026-03-02T10:00:00+00:00"),
          _uncatalogued(make_event, "tome.app", "allow", "staff", "t.teacher", "2026-03-03T11:30:00+00:00"),
          _uncatalogued(make_event, "suno.com", "allow", "staff", "t.teacher", "2026-03-01T08:00:00+00:00"),
          make_event())  # a catalogued tool's event is not one of them
    seen = client.get("/api/v1/ai-tools/uncatalogued", auth=users["dpo"]).json()
    assert [h["host"] for h in seen] == ["tome.app", "suno.com"]  # most recently seen first
    tome = seen[0]
    assert (tome["connections"], tome["blocked"], tome["people"], tome["profiles"]) == (3, 2, 3, ["pupil", "staff"])
    assert tome["first_seen"].startswith("2026-03-02T09:00") and tome["last_seen"].startswith("2026-03-03T11:30")
    assert client.get("/api/v1/ai-tools/uncatalogued", auth=users["viewer"]).status_code == 403


def test_a_host_is_approved_in_one_step_and_the_proxies_get_it(client, users, proxy_token):
    before = client.get("/api/v1/config", headers={"Authorization": f"Bearer {proxy_token}"}).json()["allowlist"]
    # approved (no longer even recorded) weakens the shipped "monitor" for staff: the DPO's decision, as for any tool
    refused = client.post("/api/v1/ai-tools/allow", json={"host": "Tome.App", "statuses": {"staff": "approved"}},
                          auth=users["it"])
    assert refused.status_code == 403 and "tome.app for staff: monitor → approved" in refused.json()["detail"]
    r = client.post("/api/v1/ai-tools/allow", json={"host": "Tome.App", "statuses": {"staff": "approved"}},
                    auth=users["dpo"])
    assert r.status_code == 204, r.text
    after = client.get("/api/v1/config", headers={"Authorization": f"Bearer {proxy_token}"}).json()["allowlist"]
    allowlist = load_allowlist(after)
    assert allowlist.uncatalogued_status("tome.app", "staff") == "approved"
    assert allowlist.uncatalogued_status("tome.app", "pupil") == "blocked"
    # the rest of the file, comments included, is as IT left it
    assert after.startswith(before.split("ai_hosts:")[0])
    assert client.post("/api/v1/ai-tools/allow", json={"host": "gamma.app", "statuses": {"staff": "monitor"}},
                       auth=users["it"]).status_code == 204
    second = load_allowlist(client.get("/api/v1/config",
                                       headers={"Authorization": f"Bearer {proxy_token}"}).json()["allowlist"])
    assert second.ai_hosts == {"tome.app": {"staff": "approved"}, "gamma.app": {"staff": "monitor"}}


def test_a_bad_host_profile_or_status_changes_nothing(client, users, proxy_token):
    before = client.get("/api/v1/config", headers={"Authorization": f"Bearer {proxy_token}"}).json()
    for body in ({"host": "not a host", "statuses": {"staff": "approved"}},
                 {"host": "tome.app", "statuses": {"governors": "approved"}},
                 {"host": "tome.app", "statuses": {"staff": "sometimes"}},
                 {"host": "https://tome.app/x", "statuses": {"staff": "approved"}}):
        assert client.post("/api/v1/ai-tools/allow", json=body, auth=users["it"]).status_code == 422, body
    assert client.get("/api/v1/config", headers={"Authorization": f"Bearer {proxy_token}"}).json() == before
    assert client.post("/api/v1/ai-tools/allow", json={"host": "tome.app", "statuses": {"staff": "approved"}},
                       auth=users["viewer"]).status_code == 403


def test_the_central_ai_domain_list_reaches_the_proxies(client, users, proxy_token):
    assert client.get("/api/v1/config", headers={"Authorization": f"Bearer {proxy_token}"}).json()["ai_domains"] \
        is None
    text = "# added by IT\nai.example.com\n!tome.app\n"
    assert client.put("/api/v1/config/ai-domains", content=text, auth=users["it"]).status_code == 204
    assert client.get("/api/v1/config",
                      headers={"Authorization": f"Bearer {proxy_token}"}).json()["ai_domains"] == text
    bad = client.put("/api/v1/config/ai-domains", content="ai.example.com\nhttps://x.example/path\n",
                     auth=users["it"])
    assert bad.status_code == 422 and "line 2" in bad.json()["detail"]
    assert client.get("/api/v1/config",
                      headers={"Authorization": f"Bearer {proxy_token}"}).json()["ai_domains"] == text


def test_the_page_lists_hosts_escaped_and_its_form_approves_one(client, users, proxy_token, make_event):
    _post(client, proxy_token, _uncatalogued(make_event, "tome.app", "block", "pupil", "pupil1",
                                             "2026-03-02T09:00:00+00:00"))
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": users["it"][0], "password": users["it"][1], "csrf_token": token})
    page = client.get("/it/ai-tools")
    assert page.status_code == 200 and "tome.app" in page.text and 'href="/it/ai-tools"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/it/ai-tools/allow", data={"host": "tome.app", "profile": "pupil", "status": "blocked",
                                                 "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert "pupil: blocked" in client.get("/it/ai-tools").text
    weaker = client.post("/it/ai-tools/allow", data={"host": "tome.app", "profile": "pupil", "status": "approved",
                                                      "csrf_token": token})
    assert weaker.status_code == 403 and "Only the DPO" in weaker.text
    bad = client.post("/it/ai-tools/domains", data={"domains": "<script>x</script>", "csrf_token": token})
    assert bad.status_code == 400 and "<script>x" not in bad.text
