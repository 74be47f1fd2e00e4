"""Whatever arrives, extraction never raises: it returns texts (and a working rebuild) or Unreadable."""
import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.adapters import ADAPTERS, WS_ADAPTERS, Extraction, Unreadable, extract, extract_ws
from proxy.catalogue import Catalogue, default_catalogue

CTYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "application/octet-stream",
          "multipart/form-data; boundary=xyz", "multipart/related; boundary=\"xyz\"", "text/csv; charset=utf-16"]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["messages", "content", "text", "parts", "type", "role", "prompt", "input", "system",
                         "contents", "file_data", "source", "data", "query_str", "params", "id", "model",
                         "attachments", "extracted_content", "event", "message", "variables", "0", "json"])
        | st.text(max_size=10), children, max_size=6),
    max_leaves=30)


def check(result, body):
    assert isinstance(result, (Extraction, Unreadable))
    if isinstance(result, Extraction):
        assert all(isinstance(t, str) for t in result.texts)
        assert result.rebuild(result.texts) == body
        new = result.rebuild([t + " [PUPIL_1]" for t in result.texts])
        assert new is None or isinstance(new, bytes)
        return new
    assert isinstance(result.reason, str) and len(result.reason) < 80
    return None


@FAST
@given(body=st.binary(max_size=600), adapter=st.sampled_from(sorted(ADAPTERS)), ctype=st.sampled_from(CTYPES))
def test_arbitrary_bytes_never_raise(body, adapter, ctype):
    check(extract(adapter, body, ctype, "/x"), body)


@FAST
@given(doc=json_values, adapter=st.sampled_from(sorted(ADAPTERS)))
def test_arbitrary_json_rebuilds_as_json_of_the_same_shape(doc, adapter):
    body = json.dumps(doc).encode()
    new = check(extract(adapter, body, "application/json", "/x"), body)
    if new is not None and adapter != "upload":
        after = json.loads(new)
        assert type(after) is type(doc)
        if isinstance(doc, (dict, list)):
            assert len(after) == len(doc)


@FAST
@given(doc=json_values, field=st.sampled_from(["f.req", "variables", "q"]),
       adapter=st.sampled_from(["gemini_web", "meta_ai", "generic"]))
def test_arbitrary_json_in_form_fields(doc, field, adapter):
    inner = json.dumps(doc)
    body = urlencode([("at", "tok"), (field, json.dumps([None, inner]) if field == "f.req" else inner)]).encode()
    check(extract(adapter, body, "application/x-www-form-urlencoded", "/x"), body)


@FAST
@given(message=st.one_of(st.binary(max_size=300), st.text(max_size=300),
                         json_values.map(lambda d: json.dumps(d) + "\x1e")),
       adapter=st.sampled_from(sorted(WS_ADAPTERS)))
def test_arbitrary_websocket_frames(message, adapter):
    result = extract(adapter, message.encode("utf-8", "surrogatepass") if isinstance(message, str) else message,
                     "", "/ws", table=WS_ADAPTERS)
    check(result, message.encode("utf-8", "surrogatepass") if isinstance(message, str) else message)


@pytest.mark.parametrize("depth", [50, 5000])
def test_deeply_nested_json_is_handled(depth):
    body = (b"[" * depth) + b'"Leo Fischer"' + (b"]" * depth)
    result = extract("openai_chat", body, "application/json", "/v1/chat/completions")
    check(result, body)
    cat = Catalogue.load()
    check(extract_ws(cat.service("copilot"), body), body)


SLOTS = [  # payload, service, path, content type, how to put a prompt into the parsed payload
    ("chatgpt_conversation.json", "chatgpt", "/backend-api/f/conversation",
     lambda d, t: d["messages"][0]["content"]["parts"].__setitem__(0, t)),
    ("claude_completion.json", "claude", "/api/organizations/o/chat_conversations/c/completion",
     lambda d, t: d.__setitem__("prompt", t)),
    ("deepseek_completion.json", "deepseek", "/api/v0/chat/completion", lambda d, t: d.__setitem__("prompt", t)),
    ("grok_new.json", "grok", "/rest/app-chat/conversations/new", lambda d, t: d.__setitem__("message", t)),
    ("poe_send.json", "poe", "/api/gql_POST", lambda d, t: d["variables"].__setitem__("query", t)),
]


@FAST
@given(text=st.text(min_size=1, max_size=200).filter(lambda t: t.strip()), case=st.sampled_from(SLOTS),
       replacement=st.text(max_size=30))
def test_any_prompt_text_round_trips_exactly(text, case, replacement):
    from pathlib import Path
    name, service, path, put = case
    doc = json.loads((Path(__file__).parent / "payloads" / name).read_text())
    put(doc, text)
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    ex = extract(default_catalogue().service(service).adapter_for(path), body, "application/json", path)
    assert isinstance(ex, Extraction)
    assert text in ex.texts
    i = ex.texts.index(text)
    new_texts = list(ex.texts)
    new_texts[i] = replacement
    new = ex.rebuild(new_texts)
    assert new is not None
    put(doc, replacement)
    assert json.loads(new) == doc


@FAST
@given(parts=st.lists(st.tuples(st.text(max_size=60), st.binary(max_size=200)), max_size=4),
       tail=st.sampled_from([b"--xyz--\r\n", b"--xyz--", b"--xy", b""]))
def test_arbitrary_multipart_parts(parts, tail):
    body = b"".join(b"--xyz\r\nContent-Disposition: " + h.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + c + b"\r\n"
                    for h, c in parts) + tail
    for adapter in ("upload", "generic"):
        check(extract(adapter, body, "multipart/form-data; boundary=xyz", "/v1/files"), body)
