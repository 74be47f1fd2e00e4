"""NoticeBoard (isolation, expiry, bounds), notice wording, CSP rewriting and HTML injection by NoticeAddon."""
from __future__ import annotations

import gzip
import json
import re
import zlib

import brotli
import pytest
import zstandard
from mitmproxy import http
from mitmproxy.test import tflow

from proxy.addons.notices import NoticeAddon
from proxy.csp import Origin, inject, rewrite_csp, source_list_allows
from proxy.notices import COOKIE_NAME, NOTICES_PATH, SCRIPT_PATH, Notice, NoticeBoard

ORIGIN = Origin.parse("https://chat.example.test")
NONCE = "N0nce-abc_123"


def make_flow(url: str = "https://chat.example.test/", *, method: str = "GET", cookie: str | None = None,
              ip: str = "10.0.0.5", ua: str = "Chromium/156", headers: dict | None = None) -> http.HTTPFlow:
    if url.startswith("/"):
        url = "https://chat.example.test" + url
    flow = tflow.tflow()
    flow.client_conn.peername = (ip, 50000)
    flow.request = http.Request.make(method, url, b"", {"user-agent": ua, **(headers or {})})
    if cookie:
        flow.request.headers["cookie"] = f"other=1; {COOKIE_NAME}={cookie}"
    flow.response = None
    return flow


def run(addon: NoticeAddon, flow: http.HTTPFlow, response: http.Response | None = None) -> http.HTTPFlow:
    addon.requestheaders(flow)
    addon.request(flow)
    if response is not None and flow.response is None:
        flow.response = response
        addon.response(flow)
    return flow


BID_A = "A" * 32
BID_B = "B" * 32


# ------------------------------------------------------------------------------------------ wording

def test_redacted_wording_names_kinds_in_plain_words_and_never_values():
    n = Notice.redacted(tool="ChatGPT", entities={"PUPIL": 2, "UK_UPN": 1}, policy_url="https://s.sch.uk/ai")
    assert n.message == "pupilguard removed pupil names and a UPN from your last message to ChatGPT."
    assert n.action == "redacted" and n.policy_url == "https://s.sch.uk/ai"


def test_blocked_wording_for_special_category_with_identifier():
    n = Notice.blocked(tool="Gemini", entities={"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1},
                       reasons=["special_category_with_identifier"], policy_url="https://s.sch.uk/ai")
    assert n.message == ("pupilguard stopped your message to Gemini: it linked a pupil's name to "
                         "special-category information (SEN).")
    assert n.kinds == ("a pupil's name", "special-category information (SEN)")


def test_blocked_tool_lists_approved_tools_and_rejects_unsafe_policy_links():
    n = Notice.blocked(tool="Grok", entities={}, reasons=["tool_blocked"], approved_tools=["Gemini", "ChatGPT"],
                       policy_url="javascript:alert(1)")
    assert n.message == "pupilguard stopped your message to Grok: Grok is not approved for your use at this school."
    assert n.to_json()["approved_tools"] == ["Gemini", "ChatGPT"]
    assert n.policy_url is None


def test_approved_tools_only_offered_when_the_tool_itself_is_blocked():
    n = Notice.blocked(tool="ChatGPT", entities={"PUPIL": 1, "SPECIAL_CATEGORY:HEALTH": 2},
                       reasons=["special_category_with_identifier"], approved_tools=["ChatGPT", "Gemini"])
    assert n.approved_tools == ()
    assert n.message.endswith("it linked a pupil's name to special-category information (health).")


def test_blocked_on_analysis_failure_says_so():
    n = Notice.blocked(tool="Claude", entities={}, reasons=["analysis_timeout"])
    assert n.message.endswith("it could not be checked in time, so it was not sent.")


# ------------------------------------------------------------------------------------------ board

def test_board_isolates_browsers_by_cookie():
    board = NoticeBoard()
    board.post(make_flow(cookie=BID_A), Notice.redacted(tool="ChatGPT", entities={"PUPIL": 1}))
    # same address and user agent, other browser profile: sees nothing
    assert board.take(make_flow(NOTICES_PATH, cookie=BID_B)) == []
    got = board.take(make_flow(NOTICES_PATH, cookie=BID_A))
    assert [n.tool for n in got] == ["ChatGPT"]
    assert board.take(make_flow(NOTICES_PATH, cookie=BID_A)) == []     # handed out once


def test_board_falls_back_to_address_and_user_agent_without_cookie():
    board = NoticeBoard()
    board.post(make_flow(ip="10.0.0.5"), Notice.redacted(tool="Copilot", entities={"PUPIL": 1}))
    assert board.take(make_flow(ip="10.0.0.6", cookie=BID_A)) == []
    assert board.take(make_flow(ip="10.0.0.5", ua="Firefox", cookie=BID_A)) == []
    # the page polling from the prompting browser, with or without its cookie, gets it
    assert len(board.take(make_flow(ip="10.0.0.5", cookie=BID_A))) == 1


def test_board_ignores_malformed_cookie_values():
    board = NoticeBoard()
    board.post(make_flow(cookie="x"), Notice.redacted(tool="T", entities={"PUPIL": 1}))
    assert len(board.take(make_flow(cookie="y"))) == 1     # both fell back to address + user agent


def test_board_expires_notices():
    now = [1000.0]
    board = NoticeBoard(ttl_s=60, clock=lambda: now[0])
    board.post(make_flow(cookie=BID_A), Notice.redacted(tool="T", entities={"PUPIL": 1}))
    now[0] += 61
    assert board.take(make_flow(cookie=BID_A)) == []
    assert len(board) == 0


def test_board_bounds_per_browser_and_browsers():
    board = NoticeBoard(per_browser=3, max_browsers=2)
    for i in range(5):
        board.post(make_flow(cookie=BID_A), Notice.redacted(tool=f"T{i}", entities={"PUPIL": 1}))
    assert [n.tool for n in board.take(make_flow(cookie=BID_A))] == ["T2", "T3", "T4"]
    for bid in ("C" * 32, "D" * 32, "E" * 32):
        board.post(make_flow(cookie=bid), Notice.redacted(tool=bid[0], entities={"PUPIL": 1}))
    assert len(board) == 2
    assert board.take(make_flow(cookie="C" * 32)) == []              # the oldest browser was dropped


# ------------------------------------------------------------------------------------------ CSP

def directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            out.setdefault(tokens[0], tokens[1:])
    return out


def test_csp_strict_self_gets_nonce_and_keeps_everything_else():
    csp = "default-src 'self'; script-src 'self'; connect-src 'self'; require-trusted-types-for 'script'"
    d = directives(rewrite_csp(csp, NONCE, ORIGIN))
    assert d["script-src"] == ["'self'", f"'nonce-{NONCE}'"]
    assert d["connect-src"] == ["'self'"]
    assert d["require-trusted-types-for"] == ["'script'"] and d["default-src"] == ["'self'"]


def test_csp_existing_nonce_and_strict_dynamic():
    csp = "script-src 'nonce-site123' 'strict-dynamic' https: 'unsafe-inline'; object-src 'none'; base-uri 'none'"
    d = directives(rewrite_csp(csp, NONCE, ORIGIN))
    assert d["script-src"] == ["'nonce-site123'", "'strict-dynamic'", "https:", "'unsafe-inline'",
                               f"'nonce-{NONCE}'"]
    assert d["object-src"] == ["'none'"] and d["base-uri"] == ["'none'"]


def test_csp_default_src_only_adds_script_src_not_wider_default():
    csp = "default-src 'self' https://cdn.example"
    d = directives(rewrite_csp(csp, NONCE, ORIGIN))
    assert d["default-src"] == ["'self'", "https://cdn.example"]
    assert d["script-src"] == ["'self'", "https://cdn.example", f"'nonce-{NONCE}'"]
    assert "connect-src" not in d                       # 'self' already allows the notices path


def test_csp_unsafe_inline_without_nonce_is_not_disabled_by_us():
    # A nonce would switch off 'unsafe-inline' and break the site's own inline scripts.
    csp = "script-src https://cdn.example 'unsafe-inline'"
    d = directives(rewrite_csp(csp, NONCE, ORIGIN))
    assert d["script-src"] == ["https://cdn.example", "'unsafe-inline'", "https://chat.example.test"]
    assert not any("nonce" in s for s in d["script-src"])


def test_csp_script_src_elem_and_none():
    csp = "script-src 'none'; script-src-elem 'self'; connect-src 'none'"
    d = directives(rewrite_csp(csp, NONCE, ORIGIN))
    assert d["script-src"] == [f"'nonce-{NONCE}'"]
    assert d["script-src-elem"] == ["'self'", f"'nonce-{NONCE}'"]
    assert d["connect-src"] == ["https://chat.example.test"]


def test_csp_connect_src_without_self_gets_exact_origin_only():
    csp = "script-src 'self'; connect-src https://api.example wss://chat.example.test"
    d = directives(rewrite_csp(csp, NONCE, Origin.parse("https://chat.example.test:8443")))
    assert d["connect-src"] == ["https://api.example", "wss://chat.example.test", "https://chat.example.test:8443"]


def test_csp_several_policies_in_one_header_all_rewritten():
    csp = "script-src 'self', default-src 'none'"
    policies = rewrite_csp(csp, NONCE, ORIGIN).split(", ")
    assert directives(policies[0])["script-src"] == ["'self'", f"'nonce-{NONCE}'"]
    assert directives(policies[1])["script-src"] == [f"'nonce-{NONCE}'"]
    assert directives(policies[1])["connect-src"] == ["https://chat.example.test"]
    assert directives(policies[1])["default-src"] == ["'none'"]


def test_csp_without_script_or_default_directive_unchanged():
    assert rewrite_csp("frame-ancestors 'none'; upgrade-insecure-requests", NONCE, ORIGIN) == \
        "frame-ancestors 'none'; upgrade-insecure-requests"


@pytest.mark.parametrize("sources,allowed", [
    (["'self'"], True), (["*"], True), (["https:"], True), (["https://chat.example.test"], True),
    (["chat.example.test"], True), (["*.example.test"], True), (["https://chat.example.test:443/"], True),
    (["https://chat.example.test/__pupilguard/"], True), (["https://chat.example.test/api/"], False),
    (["https://other.test"], False), (["*.chat.example.test"], False), (["'none'"], False),
    (["https://chat.example.test:8443"], False), (["'unsafe-inline'"], False), (["wss:"], False),
])
def test_source_list_matching(sources, allowed):
    assert source_list_allows(sources, ORIGIN, NOTICES_PATH) is allowed


def test_meta_csp_tags_rewritten_and_script_inserted_before_head_end():
    doc = (b'<!doctype html><html><head><meta charset="utf-8">'
           b'<META HTTP-EQUIV="Content-Security-Policy" CONTENT="script-src &#39;self&#39;; connect-src \'self\'">'
           b"<meta http-equiv='content-security-policy-report-only' content='default-src &apos;none&apos;'>"
           b'<meta name="x" content="script-src nothing"></head><body>Zo\xc3\xab</body></html>')
    out = inject(doc, NONCE, ORIGIN, "https://chat.example.test/__pupilguard/notice.js")
    assert f"script-src &#x27;self&#x27; &#x27;nonce-{NONCE}&#x27;".encode() in out
    assert b"default-src &#x27;none&#x27;; script-src &#x27;nonce-" in out
    assert b'content="script-src nothing"' in out                     # unrelated meta untouched
    assert out.index(b"<script src=") < out.index(b"</head>")
    assert f'nonce="{NONCE}"'.encode() in out and b"Zo\xc3\xab" in out


def test_inject_without_head_goes_after_body_or_at_end():
    assert inject(b"<body class=x>hi</body>", NONCE, ORIGIN, "/s.js").startswith(b"<body class=x><script")
    assert inject(b"hello", NONCE, ORIGIN, "/s.js").startswith(b"hello<script")


# ------------------------------------------------------------------------------------------ addon

STRICT = ("default-src 'self'; script-src 'self'; connect-src 'self'; require-trusted-types-for 'script'; "
          "style-src 'self'")


def html_response(body: bytes = b"<html><head></head><body>chat</body></html>", **headers) -> http.Response:
    return http.Response.make(200, body, {"content-type": "text/html; charset=utf-8", **headers})


def test_addon_injects_with_matching_nonce_in_headers_and_sets_cookie():
    addon = NoticeAddon(NoticeBoard())
    flow = run(addon, make_flow(headers={"sec-fetch-dest": "document"}), html_response(
        **{"content-security-policy": STRICT, "content-security-policy-report-only": "script-src 'none'",
           "etag": '"v1"'}))
    body = flow.response.content
    nonce = re.search(rb'nonce="([^"]+)"', body)[1].decode()
    assert f"'nonce-{nonce}'" in flow.response.headers["content-security-policy"]
    assert f"'nonce-{nonce}'" in flow.response.headers["content-security-policy-report-only"]
    assert "require-trusted-types-for 'script'" in flow.response.headers["content-security-policy"]
    assert b'src="https://chat.example.test/__pupilguard/notice.js?v=' in body
    cookie = flow.response.headers["set-cookie"]
    assert cookie.startswith(COOKIE_NAME + "=") and "HttpOnly" in cookie and "Secure" in cookie \
        and "SameSite=Lax" in cookie
    assert "etag" not in flow.response.headers


def test_addon_page_without_csp_gets_script_and_no_policy_added():
    addon = NoticeAddon(NoticeBoard())
    flow = run(addon, make_flow(), html_response())
    assert b"<script src=\"https://chat.example.test/__pupilguard/notice.js" in flow.response.content
    assert "content-security-policy" not in flow.response.headers
    assert "content-security-policy-report-only" not in flow.response.headers


def test_addon_fresh_nonce_per_response_and_keeps_existing_cookie():
    addon = NoticeAddon(NoticeBoard())
    nonces = set()
    for _ in range(3):
        flow = run(addon, make_flow(cookie=BID_A), html_response(**{"content-security-policy": STRICT}))
        nonces.add(re.search(rb'nonce="([^"]+)"', flow.response.content)[1])
        assert "set-cookie" not in flow.response.headers
    assert len(nonces) == 3


@pytest.mark.parametrize("encoding,compress,decompress", [
    ("gzip", gzip.compress, gzip.decompress),
    ("deflate", zlib.compress, zlib.decompress),
    ("br", brotli.compress, brotli.decompress),
    ("zstd", zstandard.compress, zstandard.decompress),
])
def test_addon_recompresses_html(encoding, compress, decompress):
    addon = NoticeAddon(NoticeBoard())
    raw = b"<html><head><title>t</title></head><body>" + b"x" * 5000 + b"</body></html>"
    resp = html_response(**{"content-encoding": encoding})
    resp.raw_content = compress(raw)
    flow = run(addon, make_flow(), resp)
    assert flow.response.headers["content-encoding"] == encoding
    plain = decompress(flow.response.raw_content)
    assert b"/__pupilguard/notice.js" in plain and plain.endswith(b"x</body></html>")
    assert int(flow.response.headers["content-length"]) == len(flow.response.raw_content)


@pytest.mark.parametrize("case", ["json", "iframe", "post", "plain-http", "not-intercepted", "404", "bad-gzip",
                                  "utf16"])
def test_addon_leaves_other_responses_alone(case):
    intercepted = case != "not-intercepted"
    addon = NoticeAddon(NoticeBoard(), is_intercepted=lambda f: intercepted)
    flow = make_flow("http://chat.example.test/" if case == "plain-http" else "https://chat.example.test/",
                     method="POST" if case == "post" else "GET",
                     headers={"sec-fetch-dest": "iframe"} if case == "iframe" else None)
    resp = html_response()
    if case == "json":
        resp.headers["content-type"] = "application/json"
    if case == "404":
        resp.status_code = 404
    if case == "bad-gzip":
        resp.headers["content-encoding"] = "gzip"
    if case == "utf16":
        resp.headers["content-type"] = "text/html; charset=utf-16"
    before = resp.raw_content
    flow = run(addon, flow, resp)
    assert flow.response.raw_content == before
    assert "set-cookie" not in flow.response.headers


def test_notices_endpoint_answers_locally_and_only_for_this_browser():
    board = NoticeBoard()
    addon = NoticeAddon(board)
    board.post(make_flow("https://chat.example.test/api/chat", method="POST", cookie=BID_A),
               Notice.redacted(tool="ChatGPT", entities={"PUPIL": 1}, policy_url="https://s.sch.uk/ai"))
    other = run(addon, make_flow(NOTICES_PATH, cookie=BID_B,
                                 headers={"x-pupilguard": "1"}))
    assert json.loads(other.response.content) == {"notices": []}
    mine = run(addon, make_flow("https://chat.example.test" + NOTICES_PATH, cookie=BID_A,
                                headers={"x-pupilguard": "1"}))
    assert mine.response.status_code == 200 and mine.response.headers["cache-control"] == "no-store"
    [notice] = json.loads(mine.response.content)["notices"]
    assert notice["message"] == "pupilguard removed a pupil's name from your last message to ChatGPT."
    assert notice["policy_url"] == "https://s.sch.uk/ai"


def test_notices_endpoint_needs_poll_header_and_serves_script():
    board = NoticeBoard()
    addon = NoticeAddon(board)
    board.post(make_flow(cookie=BID_A), Notice.redacted(tool="T", entities={"PUPIL": 1}))
    bare = run(addon, make_flow("https://chat.example.test" + NOTICES_PATH, cookie=BID_A))
    assert bare.response.status_code == 403 and len(board) == 1       # a cross-site GET cannot swallow it
    script = run(addon, make_flow("https://chat.example.test" + SCRIPT_PATH + "?v=1"))
    assert script.response.status_code == 200
    assert script.response.headers["content-type"].startswith("text/javascript")
    # Trusted Types pages reject HTML and code sinks: the script uses none
    assert not re.search(rb"\.(innerHTML|outerHTML|insertAdjacentHTML)|\beval\(|new Function|document\.write",
                         script.response.content)
    other = run(addon, make_flow("https://chat.example.test/__pupilguard/anything"))
    assert other.response.status_code == 404


def test_plain_http_and_non_intercepted_pupilguard_paths_go_upstream():
    addon = NoticeAddon(NoticeBoard(), is_intercepted=lambda f: False)
    assert run(addon, make_flow("https://x.test" + NOTICES_PATH, headers={"x-pupilguard": "1"})).response is None
    addon = NoticeAddon(NoticeBoard())
    assert run(addon, make_flow("http://x.test" + NOTICES_PATH, headers={"x-pupilguard": "1"})).response is None


def test_every_identifier_the_engine_finds_has_the_teachers_words():
    """A new entity (a home address) is named in plain English in the notice, not as its code."""
    from detectors.entities import IDENTIFIERS
    from proxy.notices import describe_entities
    from proxy.responses import describe_entities as describe_for_block_page

    for entity in IDENTIFIERS:
        kinds, _ = describe_entities({entity: 1})
        assert kinds and "_" not in kinds[0] and kinds[0] != entity.lower().replace("_", " "), entity
        assert describe_for_block_page({entity: 1}) != entity.lower().replace("_", " "), entity
    assert describe_entities({"UK_ADDRESS": 2}) == (["home addresses"], [])
