"""Tenant restriction (issue 12): for each vendor the allowlist configures, the proxy adds the headers that vendor
documents (the school's tenant), replacing any the client sent; for vendors not configured, nothing is added; a
sign-in the proxy can tell is for another tenant is refused with the school's notice. Real proxy, real TLS,
vendors' sign-in hosts routed to the fake upstream."""
from __future__ import annotations

import httpx
import pytest

from tests.support.proxy import SIGN_IN_HOSTS, STAFF_ALLOWLIST

pytestmark = pytest.mark.e2e

WORKSPACE = "2f0c2a1e-7d1b-4c55-9a57-0d1c9e1b2a3f"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
POLICY_ID = "5d2b1c4a-0b7e-4a53-8f7e-1c2d3e4f5a6b"

RESTRICTED = STAFF_ALLOWLIST.replace(
    "  chatgpt:       {staff: approved, pupil: blocked}",
    f"  chatgpt:       {{staff: approved, pupil: blocked, tenant: {{chatgpt_workspace_ids: [{WORKSPACE}]}}}}\n"
    f"  gemini:        {{staff: approved, pupil: approved, tenant: {{google_domains: [school.example.sch.uk]}}}}\n"
    f"  m365-copilot:  {{staff: approved, pupil: blocked, tenant: {{microsoft_tenants: [school.onmicrosoft.com, "
    f"{TENANT_ID}], microsoft_context: {TENANT_ID}, microsoft_block_consumer: true}}}}").replace(
    "  gemini-api:    {staff: approved, pupil: approved}\n", "")
ALL_HEADERS = {"restrict-access-to-tenants", "restrict-access-context", "sec-restrict-tenant-access-policy",
               "x-googapps-allowed-domains", "chatgpt-allowed-workspace-id"}


@pytest.fixture(scope="module")
def restricted(start_proxy, fake_upstream):
    routes = [a for h in SIGN_IN_HOSTS for a in ("--route", f"{h}={fake_upstream.address}")]
    return start_proxy(allowlist=RESTRICTED, extra_args=routes, workers=1)


def _tenant_headers(upstream, path: str) -> dict[str, str]:
    got = upstream.requests_to(path)
    assert len(got) == 1, [r.path for r in upstream.received]
    return {k: v for k, v in got[0].headers.items() if k in ALL_HEADERS}


def test_each_configured_vendor_gets_its_documented_headers(restricted, upstream):
    forged = {"Restrict-Access-To-Tenants": "evil.onmicrosoft.com", "ChatGPT-Allowed-Workspace-Id": "x",
              "X-GoogApps-Allowed-Domains": "gmail.com"}
    with restricted.client() as client:
        assert client.get("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=1",
                          headers=forged).status_code == 200
        assert _tenant_headers(upstream, "/common/oauth2/v2.0/authorize") == {
            "restrict-access-to-tenants": f"school.onmicrosoft.com,{TENANT_ID}",
            "restrict-access-context": TENANT_ID}
        assert client.get("https://login.live.com/oauth20_authorize.srf").status_code == 200
        assert _tenant_headers(upstream, "/oauth20_authorize.srf") == {
            "sec-restrict-tenant-access-policy": "restrict-msa"}
        assert client.get("https://accounts.google.com/ServiceLogin", headers=forged).status_code == 200
        assert _tenant_headers(upstream, "/ServiceLogin") == {"x-googapps-allowed-domains": "school.example.sch.uk"}
        assert client.get("https://chatgpt.com/backend-api/me", headers=forged).status_code == 200
        assert _tenant_headers(upstream, "/backend-api/me") == {"chatgpt-allowed-workspace-id": WORKSPACE}


def test_vendors_and_hosts_not_configured_get_no_header(restricted, upstream):
    with restricted.client() as client:
        r = client.post("https://api.anthropic.com/v1/messages", headers={"x-api-key": "k"},
                        json={"model": "claude-x", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]})
        assert r.status_code == 200
        assert _tenant_headers(upstream, "/v1/messages") == {}


def test_without_any_tenant_configured_nothing_is_added_and_sign_in_hosts_are_not_decrypted(proxy, upstream):
    with proxy.client() as client:
        assert client.get("https://chatgpt.com/backend-api/me",
                          headers={"ChatGPT-Allowed-Workspace-Id": WORKSPACE}).status_code == 200
    # nothing added; and the tenant headers only ever come from the school's allowlist, never from a client
    assert _tenant_headers(upstream, "/backend-api/me") == {}
    with pytest.raises(httpx.HTTPError):  # tunnelled unread: the proxy's CA does not sign it, no fake route
        with proxy.client() as client:
            client.get("https://login.microsoftonline.com/common/oauth2/authorize", timeout=5)


@pytest.mark.parametrize("path", ["/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
                                  "/11111111-2222-3333-4444-555555555555/oauth2/authorize",
                                  "/consumers/oauth2/v2.0/authorize"])
def test_a_microsoft_sign_in_to_another_tenant_gets_the_schools_notice(restricted, upstream, path):
    with restricted.client() as client:
        r = client.get("https://login.microsoftonline.com" + path, headers={"Sec-Fetch-Mode": "navigate"})
    assert r.status_code == 403 and "school account" in r.text and "school.example/ai-policy" in r.text
    assert upstream.received == []


def test_the_schools_own_tenant_signs_in(restricted, upstream):
    with restricted.client() as client:
        assert client.get(f"https://login.microsoftonline.com/{TENANT_ID}/oauth2/authorize").status_code == 200


def test_chatgpt_signed_out_is_refused_where_a_workspace_is_required(restricted, upstream):
    with restricted.client() as client:
        r = client.post("https://chatgpt.com/backend-anon/conversation", json={"messages": []})
    assert r.status_code == 403 and "school account" in r.json()["detail"] and upstream.received == []
