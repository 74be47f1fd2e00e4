"""Tenant restriction configuration (allowlist `tenant:`) and what it puts on the wire, without a proxy: each
vendor's documented header on that vendor's hosts only, values checked so no header can be malformed, and the
sign-ins the proxy can tell are for another tenant."""
from __future__ import annotations

import pytest

from detectors.allowlist import AllowlistError, load_allowlist
from proxy.addons.tenants import Plan, allow_hosts_regexes

BASE = "version: 1\nprofiles: {staff: {}, pupil: {}}\ndefault_profile: pupil\ntools:\n"
WS = "2f0c2a1e-7d1b-4c55-9a57-0d1c9e1b2a3f"
TID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PID = "5d2b1c4a-0b7e-4a53-8f7e-1c2d3e4f5a6b"


def plan(tools: str) -> Plan:
    return Plan(load_allowlist(BASE + tools).tenant_restrictions())


def test_each_vendor_gets_its_header_on_its_hosts_only():
    p = plan(f"  chatgpt: {{staff: approved, tenant: {{chatgpt_workspace_ids: [{WS.upper()}, {TID}]}}}}\n"
             "  gemini: {staff: approved, tenant: {google_domains: [school.example.sch.uk, consumer_accounts]}}\n"
             f"  m365-copilot: {{staff: approved, tenant: {{microsoft_policy: '{TID}:{PID}'}}}}\n")
    assert p.headers_for("chatgpt.com") == {"ChatGPT-Allowed-Workspace-Id": f"{WS},{TID}"}  # no spaces, lower case
    assert p.headers_for("accounts.google.com") == p.headers_for("mail.google.com") == {
        "X-GoogApps-Allowed-Domains": "school.example.sch.uk,consumer_accounts"}
    for host in ("login.microsoftonline.com", "login.microsoft.com", "login.windows.net"):
        assert p.headers_for(host) == {"sec-Restrict-Tenant-Access-Policy": f"{TID}:{PID}"}
    for host in ("google.com.evil.example", "notgoogle.com", "api.openai.com", "login.live.com", "example.org"):
        assert p.headers_for(host) is None, host


def test_v1_microsoft_and_consumer_accounts():
    p = plan(f"  m365-copilot: {{staff: approved, tenant: {{microsoft_tenants: [School.onmicrosoft.com, {TID}], "
             f"microsoft_context: {TID}, microsoft_block_consumer: true}}}}\n")
    assert p.headers_for("login.microsoftonline.com") == {
        "Restrict-Access-To-Tenants": f"school.onmicrosoft.com,{TID}", "Restrict-Access-Context": TID}
    assert p.headers_for("login.live.com") == {"sec-Restrict-Tenant-Access-Policy": "restrict-msa"}
    assert p.refusal("login.microsoftonline.com", "/contoso.com/oauth2/authorize") == "Microsoft 365"
    assert p.refusal("login.microsoftonline.com", "/consumers/oauth2/v2.0/token") == "Microsoft 365"
    for ok in (f"/{TID}/oauth2/authorize", "/school.onmicrosoft.com/oauth2/token", "/common/oauth2/authorize",
               "/organizations/v2.0/.well-known/openid-configuration", "/favicon.ico", "/"):
        assert p.refusal("login.microsoftonline.com", ok) is None, ok
    assert set(p.hosts()) == {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net",
                              "login.live.com"}


def test_nothing_configured_nothing_added_nothing_intercepted():
    p = plan("  chatgpt: {staff: approved}\n")
    assert p.hosts() == [] and p.headers_for("chatgpt.com") is None
    assert p.refusal("chatgpt.com", "/backend-anon/conversation") is None


def test_intercepted_host_patterns_match_subdomains_only_where_meant():
    import re

    rx = allow_hosts_regexes(["google.com", "*.google.com", "login.live.com"])
    matches = lambda h: any(re.search(r, h, re.I) for r in rx)  # noqa: E731
    assert matches("accounts.google.com:443") and matches("google.com:443") and matches("login.live.com:443")
    assert not matches("google.com.evil.example:443") and not matches("xlogin.live.com:443")


@pytest.mark.parametrize(("tenant", "message"), [
    ("{chatgpt_workspace_ids: [org-123]}", "not a ChatGPT workspace id"),
    ("{google_domains: ['school.sch.uk\\r\\nX-Injected: 1']}", "not a domain name"),
    ("{microsoft_tenants: [school.onmicrosoft.com]}", "go together"),
    (f"{{microsoft_tenants: [a.com], microsoft_context: {TID}, microsoft_policy: '{TID}:{PID}'}}", "not both"),
    ("{microsoft_policy: 'abc'}", "tenant restrictions v2"),
    ("{unknown_vendor: [x]}", "unknown_vendor"),
])
def test_bad_tenant_settings_are_refused_with_a_clear_message(tenant, message):
    with pytest.raises(AllowlistError, match=message):
        load_allowlist(BASE + f"  chatgpt: {{staff: approved, tenant: {tenant}}}\n")


def test_two_different_microsoft_contexts_are_refused():
    other = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(AllowlistError, match="different Microsoft"):
        load_allowlist(BASE + f"  copilot: {{tenant: {{microsoft_tenants: [a.com], microsoft_context: {TID}}}}}\n"
                       f"  m365-copilot: {{tenant: {{microsoft_tenants: [a.com], microsoft_context: {other}}}}}\n")


def test_uncatalogued_ai_statuses_and_ai_hosts():
    allowlist = load_allowlist(BASE + "  chatgpt: {staff: approved}\nuncatalogued_ai: {staff: monitor}\n"
                               "ai_hosts: {Gamma.App.: {staff: approved, pupil: monitor}}\n")
    assert allowlist.uncatalogued_status("gamma.app", "staff") == "approved"
    assert allowlist.uncatalogued_status("api.gamma.app", "pupil") == "monitor"  # subdomains follow
    assert allowlist.uncatalogued_status("tome.app", "staff") == "monitor"
    assert allowlist.uncatalogued_status("tome.app", "pupil") == "blocked"  # not default_status: never approved
    with pytest.raises(AllowlistError, match="not one of the profiles"):
        load_allowlist(BASE + "uncatalogued_ai: {governors: monitor}\n")
    with pytest.raises(AllowlistError, match="not a host name"):
        load_allowlist(BASE + "ai_hosts: {'https://x.example/': {staff: approved}}\n")
