"""Consumer web apps and WebSocket frames: realistic bodies (tests/proxy/payloads) read and rewritten in place."""
import json
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl

import pytest

from proxy.adapters import Extraction, Unreadable, extract_for, extract_ws
from proxy.catalogue import Catalogue
from tests.support.json_paths import changed_paths

PAYLOADS = Path(__file__).parent / "payloads"
FORM = "application/x-www-form-urlencoded;charset=UTF-8"


@pytest.fixture(scope="module")
def cat():
    return Catalogue.load()


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def redact(texts, old, new):
    return [t.replace(old, new) for t in texts]


def reads_back(cat, service, body, ctype, path) -> list[str]:
    """The texts the proxy reads from a rewritten body before sending it (it must be exactly the redacted ones)."""
    return extract_for(cat.service(service), body, ctype, path).texts


def extract(cat, service, body, ctype, path) -> Extraction:
    ex = extract_for(cat.service(service), body, ctype, path)
    assert isinstance(ex, Extraction), ex
    assert ex.rebuild(ex.texts) == body  # unchanged texts: the original bytes, untouched
    return ex


JSON_CASES = [
    # (payload, service, path, texts the adapter picks (prefixes, in order), name to redact, changed JSON paths,
    #  conversation); SWEPT below: the other strings of the body, scanned too (ids, URLs, uuids and enums are not)
    ("chatgpt_conversation.json", "chatgpt", "/backend-api/f/conversation",
     ["Write a report comment for Amelia Watson (UPN A820106510023)"], "Amelia Watson",
     {("messages", 0, "content", "parts", 0)}, "6741c9d2-0a7e-800b-9f43-1c2d3e4f5a6b"),
    ("chatgpt_multimodal.json", "chatgpt", "/backend-api/f/conversation",
     ["Mark this worksheet by Jayden O'Connor"], "Jayden O'Connor",
     {("messages", 0, "content", "parts", 1)}, "6741ca10-55aa-800b-b1c2-d3e4f5a6b7c8"),
    ("claude_completion.json", "claude", "/api/organizations/0f1e2d3c/chat_conversations/9a8b7c6d/completion",
     ["Summarise the behaviour log", "12/11 Leo Fischer (8R)", "behaviour_log_yr8.txt"], "Leo Fischer",
     {("attachments", 0, "extracted_content")}, "9a8b7c6d"),
    ("perplexity_ask.json", "perplexity", "/rest/sse/perplexity_ask",
     ["Is ADHD medication safe for Ruby Clarke", "Is ADHD medication safe for Ruby Clarke"], "Ruby Clarke",
     {("query_str",), ("params", "dsl_query")}, "7e9a1c3e-5a7c-4e9a-b1c3-e5a7c9e1a3c5"),
    ("deepseek_completion.json", "deepseek", "/api/v0/chat/completion",
     ["Rewrite this letter to Mr Patel about his son Arjun"], "Arjun", {("prompt",)},
     "3b1f2e4d-6a8c-4e0f-9b2d-4f6a8c0e2b4d"),
    ("grok_new.json", "grok", "/rest/app-chat/conversations/new",
     ["Give me a seating plan that keeps Ethan Brown"], "Ethan Brown", {("message",)}, None),
    ("poe_send.json", "poe", "/api/gql_POST",
     ["Translate for Zoë Kowalski's parents"], "Zoë Kowalski", {("variables", "query")}, "849201733"),
    ("le_chat_newchat.json", "le-chat", "/api/trpc/message.newChat?batch=1",
     ["Plan a parents' evening slot for Harry Evans"], "Harry Evans", {("0", "json", "content", 0, "text")},
     "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"),
]


SWEPT = {  # settings and labels the apps send along: harmless, but a field we do not know is scanned, not trusted
    'chatgpt_conversation.json': ['v1', 'allow', 'auto'],
    'chatgpt_multimodal.json': ['IMG_2041.jpeg', 'local', 'v1'],
    # Claude's built-in "Normal" style is its own text: read, but never rewritten; then a tool's name
    'claude_completion.json': ['Default', 'Normal', 'normal_style_name', 'Normal', 'Default responses from Claude',
                               'normal_style_summary', 'web_search'],
    'perplexity_ask.json': ['web', 'turbo', 'answer_modes', 'media_items'],  # enums of their shape are not read
    'deepseek_completion.json': [],
    'grok_new.json': ['grok-3'],
    'poe_send.json': ['sendMessageMutation', '849201733', 'capybara', 'Qm9lZ2VyU2FtcGxl'],  # a long number too
    'le_chat_newchat.json': ['beta-websearch', 'beta-imagegen', '2025-11-23', 'Europe/London'],
}


@pytest.mark.parametrize("name,service,path,expected,pupil,paths,conversation", JSON_CASES,
                         ids=[c[0] for c in JSON_CASES])
def test_web_app_json_bodies(cat, name, service, path, expected, pupil, paths, conversation):
    body = payload(name)
    ex = extract(cat, service, body, "application/json", path)
    assert ex.adapter == cat.service(service).adapter
    assert len(ex.texts) == len(expected) + len(SWEPT[name])
    for text, start in zip(ex.texts, expected):
        assert text.startswith(start)
    assert ex.texts[len(expected):] == SWEPT[name]
    assert ex.conversation == conversation
    new = ex.rebuild(redact(ex.texts, pupil, "[PUPIL_1]"))
    before, after = json.loads(body), json.loads(new)
    assert changed_paths(before, after) == paths
    assert reads_back(cat, service, new, "application/json", path) == redact(ex.texts, pupil, "[PUPIL_1]")
    assert pupil not in new.decode("utf-8") and "[PUPIL_1]" in new.decode("utf-8")
    # the browser sent compact UTF-8 JSON, so does the rebuilt body
    assert new == json.dumps(after, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_chatgpt_multimodal_keeps_asset_pointer_objects(cat):
    body = payload("chatgpt_multimodal.json")
    ex = extract(cat, "chatgpt", body, "application/json", "/backend-api/f/conversation")
    after = json.loads(ex.rebuild(["x"] + ex.texts[1:]))
    parts = after["messages"][0]["content"]["parts"]
    assert parts[0]["asset_pointer"] == "file-service://file-9XkQ2pLm7Vb3Rt"
    assert parts[1] == "x"


def test_gemini_web_f_req_json_in_json_in_form(cat):
    body = payload("gemini_streamgenerate.form")
    path = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?bl=boq_assistant&_reqid=3"
    ex = extract(cat, "gemini", body, FORM, path)
    assert ex.adapter == "gemini_web"
    # the prompt, then the other strings of the inner array (scanned too; the c_/r_/rc_ ids are not)
    assert ex.texts == ["Draft an EHCP summary for Priya Shah, DOB 14/03/2013", "en-GB", "!abcdEFGHijkl_token"]
    assert ex.conversation == "c_8f2a1b3c4d5e6f70"
    new = ex.rebuild(["Draft an EHCP summary for [PUPIL_1], DOB [DOB_1]"] + ex.texts[1:])
    assert reads_back(cat, "gemini", new, FORM, path) == ["Draft an EHCP summary for [PUPIL_1], DOB [DOB_1]",
                                                          *ex.texts[1:]]
    fields_before, fields_after = parse_qsl(body.decode()), parse_qsl(new.decode())
    assert [k for k, _ in fields_after] == [k for k, _ in fields_before]
    assert fields_after[1] == fields_before[1]  # the `at` token is byte-identical
    assert new.split(b"&")[1:] == body.split(b"&")[1:]
    outer_b, outer_a = json.loads(fields_before[0][1]), json.loads(fields_after[0][1])
    assert outer_a[0] is None and isinstance(outer_a[1], str)
    inner_b, inner_a = json.loads(outer_b[1]), json.loads(outer_a[1])
    assert changed_paths(inner_b, inner_a) == {(0, 0)}
    assert inner_a[0][0] == "Draft an EHCP summary for [PUPIL_1], DOB [DOB_1]"
    # inner JSON re-serialised the way the page's JSON.stringify wrote it: compact
    assert outer_a[1] == json.dumps(inner_a, separators=(",", ":"), ensure_ascii=False)


def test_meta_ai_variables_form_field(cat):
    body = payload("meta_ai_graphql.form")
    ex = extract(cat, "meta-ai", body, "application/x-www-form-urlencoded", "/api/graphql/")
    assert ex.adapter == "meta_ai"
    assert ex.texts == ["Is it OK to share Noah Williams's SEN plan with the coach company?", "ABRA__CHAT__TEXT",
                        # the other form fields are swept up too; fb_dtsg and doc_id are of a token's shape, jazoest
                        # and lsd are too short to be one, so they are read
                        "0", "0", "1", "q", "1", "25412", "AVqdNlpZ0bM", "RelayModern",
                        "useAbraSendMessageMutation", "true"]
    assert ex.conversation == "1a7c9e2b-3d4f-4a6b-8c0d-2e4f6a8b0c1d"
    new = ex.rebuild(redact(ex.texts, "Noah Williams", "[PUPIL_1]"))
    assert reads_back(cat, "meta-ai", new, "application/x-www-form-urlencoded", "/api/graphql/") == \
        redact(ex.texts, "Noah Williams", "[PUPIL_1]")
    before, after = parse_qs(body.decode()), parse_qs(new.decode())
    assert set(before) == set(after)
    for key in before:
        if key != "variables":
            assert before[key] == after[key]
    assert changed_paths(json.loads(before["variables"][0]), json.loads(after["variables"][0])) == {
        ("message", "sensitive_string_value")}


def test_meta_ai_other_graphql_operation_is_scanned_generically(cat):
    variables = json.dumps({"input": {"title": "Notes on Noah Williams", "id": "987654321"}, "scale": 1})
    body = ("fb_dtsg=abc&variables=" + __import__("urllib.parse").parse.quote_plus(variables)).encode()
    ex = extract(cat, "meta-ai", body, FORM, "/api/graphql/")
    assert ex.texts == ["Notes on Noah Williams", "scale", "abc"]  # a key that is not a protocol word; a short token


def test_copilot_websocket_send_frame(cat):
    frame = payload("copilot_send.json")
    ex = extract_ws(cat.service("copilot"), frame.decode("utf-8"))
    assert isinstance(ex, Extraction) and ex.adapter == "copilot_ws"
    assert ex.texts == ["My pupil Freya Hughes told me her stepdad hits her. What do I do?"]  # "mode" is an enum
    assert ex.conversation == "kqUfV2mJ7oP8sR9t"
    assert ex.rebuild(ex.texts) == frame
    new = ex.rebuild(redact(ex.texts, "Freya Hughes", "[PUPIL_1]"))
    assert changed_paths(json.loads(frame), json.loads(new)) == {("content", 0, "text")}
    assert extract_ws(cat.service("copilot"), new).texts == redact(ex.texts, "Freya Hughes", "[PUPIL_1]")


def test_copilot_other_events_are_still_scanned_but_ids_and_enums_are_not(cat):
    ex = extract_ws(cat.service("copilot"), '{"event":"ping","id":"b1f2"}')
    assert isinstance(ex, Extraction) and ex.texts == []
    # an event type we do not know could carry text: every string is scanned
    frame = '{"event":"edit","messageId":"m-1","text":"Freya Hughes again"}'
    ex = extract_ws(cat.service("copilot"), frame)
    assert ex.texts == ["Freya Hughes again"] and "fallback:generic_json" in ex.notes


M365_SWEPT = ["officeweb", "enterprise_flux_web", "enterprise_flux_work", "enable_request_response_interstitials",
              "Chat", "Suggestion", "InternalSearchQuery", "Disengaged", "51D|BingProdUnAuthenticatedUsers|7E3F8A1C",
              "Office", "web", "user", "Keyboard", "Chat", "en-gb", "GB", "Balanced", "None"]


def test_m365_copilot_signalr_frames(cat):
    raw = payload("m365_copilot_frame.txt")
    handshake = b'{"protocol":"json","version":1}\x1e'
    for frame in (raw, handshake + raw, raw + b'{"type":6}\x1e'):
        ex = extract_ws(cat.service("m365-copilot"), frame)
        assert isinstance(ex, Extraction) and ex.adapter == "m365_copilot_ws"
        assert ex.texts[0] == "Write an email to Olivia Roberts's dad about her detention on Friday."
        assert ex.texts[1:] == M365_SWEPT  # the invocation's other arguments: scanned too
        assert ex.conversation == "51D|BingProdUnAuthenticatedUsers|7E3F8A1C"
        assert ex.rebuild(ex.texts) == frame
        new = ex.rebuild(redact(ex.texts, "Olivia Roberts", "[PUPIL_1]"))
        assert extract_ws(cat.service("m365-copilot"), new).texts == redact(ex.texts, "Olivia Roberts", "[PUPIL_1]")
        assert new.endswith(b"\x1e") and new.count(b"\x1e") == frame.count(b"\x1e")
        records_b = [json.loads(r) for r in frame.split(b"\x1e") if r]
        records_a = [json.loads(r) for r in new.split(b"\x1e") if r]
        diffs = [changed_paths(b, a) for b, a in zip(records_b, records_a)]
        assert {("arguments", 0, "message", "text")} in diffs
        assert sum(1 for d in diffs if d) == 1
        assert new.split(b"\x1e")[0] == frame.split(b"\x1e")[0] or frame.startswith(b'{"arguments"')


def test_m365_handshake_and_pings_have_no_texts(cat):
    for frame in (b'{"protocol":"json","version":1}\x1e', b'{"type":6}\x1e', b'{"type":7,"error":"x"}\x1e'):
        ex = extract_ws(cat.service("m365-copilot"), frame)
        assert isinstance(ex, Extraction) and ex.adapter == "m365_copilot_ws"
        assert ex.texts == [] and ex.rebuild([]) == frame
    # an invocation of another hub method is scanned generically
    ex = extract_ws(cat.service("m365-copilot"),
                    b'{"type":1,"target":"submitFeedback","arguments":[{"comment":"Olivia Roberts"}]}\x1e')
    assert ex.texts == ["submitFeedback", "Olivia Roberts"]  # a method name that is not an enum's shape is read
    ex = extract_ws(cat.service("m365-copilot"),
                    b'{"type":1,"target":"note","arguments":["Olivia Roberts"]}\x1e'
                    b'{"type":2,"invocationId":"1","item":{"text":"Isla Morgan"}}\x1e')
    assert ex.texts == ["Olivia Roberts", "Isla Morgan"]
    new = ex.rebuild(["[PUPIL_1]", "[PUPIL_2]"])
    assert [json.loads(r) for r in new.split(b"\x1e") if r] == [
        {"type": 1, "target": "note", "arguments": ["[PUPIL_1]"]},
        {"type": 2, "invocationId": "1", "item": {"text": "[PUPIL_2]"}}]


def test_character_ai_websocket_turn(cat):
    frame = payload("character_ai_turn.json")
    ex = extract_ws(cat.service("character-ai"), frame)
    assert ex.texts == ["Pretend you are Mason Taylor from 7B and explain fractions.", "MrT", "MrT"]  # + names
    assert ex.conversation == "1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
    new = ex.rebuild(redact(ex.texts, "Mason Taylor", "[PUPIL_1]"))
    assert changed_paths(json.loads(frame), json.loads(new)) == {("payload", "turn", "candidates", 0, "raw_content")}


def test_unknown_shape_on_prompt_path_falls_back_to_every_string(cat):
    # ChatGPT changes its body: the prompt moves. It must still be scanned, ids and enums left alone.
    body = json.dumps({"action": "next", "conversation_id": "6741c9d2-0a7e-800b-9f43-1c2d3e4f5a6b",
                       "model": "gpt-5", "input": {"kind": "user_text", "value": "Amelia Watson's report"},
                       "parent_message_id": "client-created-root", "timezone": "Europe/London"}).encode()
    ex = extract(cat, "chatgpt", body, "application/json", "/backend-api/f/conversation")
    assert ex.texts == ["Amelia Watson's report"]  # not the ids, the model, the action or the timezone
    assert "fallback:generic_json" in ex.notes
    after = json.loads(ex.rebuild(["[PUPIL_1]'s report"]))
    assert changed_paths(json.loads(body), after) == {("input", "value")}


def test_unparseable_body_on_prompt_path_is_scanned_as_text(cat):
    body = b'{"prompt": "Tell me about Arjun Patel", truncated'
    ex = extract(cat, "deepseek", body, "application/json", "/api/v0/chat/completion")
    assert ex.texts == [body.decode()]
    assert ex.rebuild([ex.texts[0].replace("Arjun Patel", "[PUPIL_1]")]) == \
        b'{"prompt": "Tell me about [PUPIL_1]", truncated'


def test_binary_body_on_prompt_path_is_unreadable(cat):
    body = bytes(range(256)) * 8
    result = extract_for(cat.service("deepseek"), body, "application/octet-stream", "/api/v0/chat/completion")
    assert isinstance(result, Unreadable)
    assert result.reason == "body_not_text"
    assert extract_ws(cat.service("copilot"), body).reason == "body_not_text"


def test_empty_body_has_nothing_to_scan(cat):
    ex = extract_for(cat.service("chatgpt"), b"", "application/json", "/backend-api/f/conversation")
    assert isinstance(ex, Extraction) and ex.texts == [] and ex.rebuild([]) == b""


def test_rebuild_needs_one_text_per_extracted_text(cat):
    ex = extract(cat, "grok", payload("grok_new.json"), "application/json", "/rest/app-chat/conversations/new")
    with pytest.raises(ValueError, match="needs 2 texts"):
        ex.rebuild([])


def test_copilot_send_frame_page_context_is_scanned_too(cat):
    # Copilot in Edge sends the open page with the prompt; the adapter picks the prompt, the sweep the rest
    frame = json.dumps({"event": "send", "conversationId": "kqUfV2mJ7oP8sR9t", "mode": "chat",
                        "content": [{"type": "text", "text": "Summarise this page."}],
                        "context": {"edge_pageContent": "Behaviour log: Freya Hughes, Year 8, excluded twice.",
                                    "edge_pageUrl": "https://mis.school.example/pupil/123",
                                    "edge_pageTitle": "Freya Hughes - Arbor"}}, separators=(",", ":"))
    ex = extract_ws(cat.service("copilot"), frame)
    assert isinstance(ex, Extraction) and ex.adapter == "copilot_ws"
    assert ex.texts == ["Summarise this page.", "Behaviour log: Freya Hughes, Year 8, excluded twice.",
                        "Freya Hughes - Arbor", "edge_pageContent\nedge_pageUrl\nedge_pageTitle"]  # + the keys, as one
    # text; the page URL (no words in it) and the mode (an enum) are not read
    new = ex.rebuild(redact(ex.texts, "Freya Hughes", "[PUPIL_1]"))
    assert changed_paths(json.loads(frame), json.loads(new)) == {
        ("context", "edge_pageContent"), ("context", "edge_pageTitle")}
    assert ex.conversation == "kqUfV2mJ7oP8sR9t"


@pytest.mark.parametrize("arguments,paths", [
    ([{"message": {"content": "Olivia Roberts is upset"}}], {("arguments", 0, "message", "content")}),
    ([{"message": {"text": "Hi", "adaptiveCards": [{"body": [{"text": "Olivia Roberts is upset"}]}]}}],
     {("arguments", 0, "message", "adaptiveCards", 0, "body", 0, "text")}),
    ([{"message": {"text": "Hi"}, "context": "Olivia Roberts is upset"}], {("arguments", 0, "context")}),
])
def test_m365_copilot_invocation_is_scanned_whole(cat, arguments, paths):
    record = json.dumps({"type": 4, "target": "chat", "invocationId": "1", "arguments": arguments}) + "\x1e"
    ex = extract_ws(cat.service("m365-copilot"), record + '{"type":6}\x1e')
    assert isinstance(ex, Extraction) and "Olivia Roberts is upset" in ex.texts
    new = ex.rebuild(redact(ex.texts, "Olivia Roberts", "[PUPIL_1]"))
    assert changed_paths(json.loads(record[:-1]), json.loads(new.split(b"\x1e")[0])) == paths
    assert new.endswith(b'{"type":6}\x1e')


def test_other_form_fields_beside_the_prompt_are_scanned(cat):
    body = payload("gemini_streamgenerate.form") + b"&context=Priya+Shah%27s+EHCP+notes"
    path = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate"
    ex = extract(cat, "gemini", body, FORM, path)
    assert ex.adapter == "gemini_web" and ex.texts[0].startswith("Draft an EHCP summary for Priya Shah")
    assert ex.texts[-1] == "Priya Shah's EHCP notes"
    new = ex.rebuild(redact(ex.texts, "Priya Shah", "[PUPIL_1]"))
    assert new.endswith(b"&context=%5BPUPIL_1%5D%27s+EHCP+notes")
    assert new.split(b"&")[1] == body.split(b"&")[1]  # the `at` token: byte-identical


def test_copilot_in_bing_signalr_hub_gets_the_signalr_adapter(cat):
    # the same service (copilot), but its Bing/Edge sidebar WebSocket speaks SignalR like Microsoft 365 Copilot
    record = json.dumps({"type": 4, "target": "chat", "invocationId": "0", "arguments": [
        {"source": "cib", "isStartOfSession": True, "conversationId": "51D|Bing|abc",
         "message": {"author": "user", "text": "Olivia Roberts keeps crying in class", "messageType": "Chat"}}]})
    frame = record + "\x1e"
    ex = extract_ws(cat.service("copilot"), frame, "/sydney/ChatHub?sec_access_token=x")
    assert isinstance(ex, Extraction) and ex.adapter == "m365_copilot_ws"
    assert ex.texts[0] == "Olivia Roberts keeps crying in class" and ex.conversation == "51D|Bing|abc"
    assert extract_ws(cat.service("copilot"), payload("copilot_send.json"), "/c/api/chat").adapter == "copilot_ws"
