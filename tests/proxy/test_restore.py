"""Restoring placeholders in replies: whole bodies, SSE streams cut at any byte, tokens cut across events."""
from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings, strategies as st
from mitmproxy import http, websocket
from mitmproxy.test import tflow
from wsproto.frame_protocol import Opcode

from detectors import Placeholders
from proxy import flowmeta
from proxy.addons.restore import RestoreAddon
from proxy.restore import StreamRestorer, restore_text


@pytest.fixture(scope="module")
def ph() -> Placeholders:
    p = Placeholders()
    assert p.placeholder("PUPIL", "Zoë O'Brien") == "[PUPIL_1]"
    assert p.placeholder("UK_UPN", "A123456789012") == "[UPN_1]"
    assert p.placeholder("PERSON", 'Mr "Dan" Smith\\') == "[PERSON_1]"
    return p


def sse(deltas: list[str]) -> bytes:
    """An OpenAI-style chat completion stream carrying `deltas`."""
    events = [f'data: {json.dumps({"choices": [{"index": 0, "delta": {"content": d}}]})}\n\n' for d in deltas]
    return ("".join(events) + "data: [DONE]\n\n").encode()


def text_of(stream: bytes) -> str:
    out = []
    for line in stream.decode().split("\n"):
        if line.startswith("data: {") and "choices" in (event := json.loads(line[6:])):
            out.append(event["choices"][0]["delta"]["content"])
    return "".join(out)


def run_stream(ph, chunks: list[bytes]) -> bytes:
    r = StreamRestorer(ph)
    return b"".join(r(c) for c in chunks if c) + r(b"")


def test_restore_text_json_escapes_only_when_asked(ph):
    assert restore_text("Hi [PUPIL_1], [UPN_1] [PUPIL_9] [x]", ph) == "Hi Zoë O'Brien, A123456789012 [PUPIL_9] [x]"
    escaped = restore_text('{"t": "[PERSON_1]"}', ph, lambda v: json.dumps(v, ensure_ascii=False)[1:-1])
    assert json.loads(escaped) == {"t": 'Mr "Dan" Smith\\'}


def test_stream_restores_whole_tokens_in_json_events(ph):
    out = run_stream(ph, [sse(["Report for [PUPIL_1] (UPN [UPN_1]) and [PERSON_1]."])])
    assert text_of(out) == "Report for Zoë O'Brien (UPN A123456789012) and Mr \"Dan\" Smith\\."
    assert out.endswith(b"data: [DONE]\n\n")


def test_stream_rejoins_token_cut_across_events(ph):
    deltas = ["Dear ", "[", "PUP", "IL", "_", "1", "]", "'s parents, [UPN_", "1] and [PERS", "ON_1]", " ok"]
    out = run_stream(ph, [sse(deltas)])
    assert text_of(out) == "Dear Zoë O'Brien's parents, A123456789012 and Mr \"Dan\" Smith\\ ok"
    assert b"PUP" not in out and b"UPN_" not in out
    # every event still reaches the client, in order, each one valid JSON
    assert out.count(b"data: {") == len(deltas)


def test_stream_waits_past_unrelated_events_anthropic_style(ph):
    def delta(text):
        return ("event: content_block_delta\ndata: " + json.dumps(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}) + "\n\n")
    body = (delta("Notes on [PUP") + 'event: ping\ndata: {"type": "ping"}\n\n' + delta("IL_1].") +
            'event: message_stop\ndata: {"type": "message_stop"}\n\n').encode()
    out = run_stream(ph, [body])
    texts = [json.loads(line[6:])["delta"]["text"] for line in out.decode().split("\n")
             if line.startswith("data: ") and "text_delta" in line]
    assert "".join(texts) == "Notes on Zoë O'Brien."
    # every event kept its place in the stream
    assert [line for line in out.decode().split("\n") if line.startswith("event:")] == [
        "event: content_block_delta", "event: ping", "event: content_block_delta", "event: message_stop"]


def test_stream_leaves_brackets_that_are_not_placeholders(ph):
    deltas = ["See [", "link](http://x) and [", "PUPIL_7] and [A", "bc] and ["]
    out = run_stream(ph, [sse(deltas)])
    assert text_of(out) == "See [link](http://x) and [PUPIL_7] and [Abc] and ["


BODY = sse(["Zoë's report: ", "[PUP", "IL_1] scored ☕ well. [UPN_1]"]) + \
    b"event: done\ndata: {\"text\": \"[PERSON_1] caf\xc3\xa9\"}\n\n"


def test_stream_cut_at_every_byte_position(ph):
    expected = run_stream(ph, [BODY])
    assert "Zoë O'Brien scored ☕ well. A123456789012" in text_of(expected)
    assert b'"text":"Mr \\"Dan\\" Smith\\\\ caf\xc3\xa9"' in expected
    for i in range(1, len(BODY)):
        assert run_stream(ph, [BODY[:i], BODY[i:]]) == expected, f"cut at byte {i}"


def test_stream_crlf_lines_cut_anywhere(ph):
    body = BODY.replace(b"\n", b"\r\n")
    expected = run_stream(ph, [body])
    assert expected == run_stream(ph, [BODY]).replace(b"\n", b"\r\n")
    for i in range(1, len(body)):
        assert run_stream(ph, [body[:i], body[i:]]) == expected, f"cut at byte {i}"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(BODY) - 1), max_size=12))
def test_stream_cut_into_many_pieces(ph, cuts):
    cuts = sorted(set(cuts))
    pieces = [BODY[a:b] for a, b in zip([0, *cuts], [*cuts, len(BODY)])]
    assert run_stream(ph, pieces) == run_stream(ph, [BODY])


def test_stream_plain_text_and_undecodable_bytes_pass_through(ph):
    body = b"data: hello [PUPIL_1]\n\n: comment \xff\xfe\n" + b"data: [DONE]\n\n"
    for i in range(1, len(body)):
        out = run_stream(ph, [body[:i], body[i:]])
        assert out == body.replace(b"[PUPIL_1]", "Zoë O'Brien".encode())


def test_stream_long_line_without_newline_is_not_held_whole(ph):
    r = StreamRestorer(ph, max_line=100)
    first = r(b"x" * 150 + b" [PUPI")
    assert first == b"x" * 150 + b" "                # passed on, holding only the partial token
    assert r(b"L_1] end") == "Zoë O'Brien end".encode()
    assert r(b"") == b""


# ------------------------------------------------------------------------------------------ addon

def reply_flow(ph, content_type: str, body: bytes, restore: bool = True, **headers) -> http.HTTPFlow:
    flow = tflow.tflow()
    flow.request = http.Request.make("POST", "https://api.example.test/v1/chat/completions", b"{}")
    flow.metadata[flowmeta.PLACEHOLDERS] = ph
    flow.metadata[flowmeta.RESTORE] = restore
    flow.response = http.Response.make(200, b"", {"content-type": content_type, **headers})
    flow.response.raw_content = body
    return flow


def test_addon_streams_gzip_sse_decoded_and_restored(ph):
    body = sse(["Hello [PUP", "IL_1]"])
    flow = reply_flow(ph, "text/event-stream; charset=utf-8", b"", **{"content-encoding": "gzip",
                                                                         "content-length": "99"})
    RestoreAddon().responseheaders(flow)
    stream = flow.response.stream
    assert callable(stream)
    assert "content-encoding" not in flow.response.headers and "content-length" not in flow.response.headers
    assert flow.response.headers["transfer-encoding"] == "chunked"
    wire = gzip.compress(body)
    returned = [stream(wire[i:i + 7]) for i in range(0, len(wire), 7)] + [stream(b"")]
    # an empty chunk would end a chunked HTTP/1.1 reply early: held-back data must yield no chunk at all
    assert all(isinstance(r, list) and all(r) for r in returned)
    assert text_of(b"".join(b"".join(r) for r in returned)) == "Hello Zoë O'Brien"


def test_addon_json_body_restored_with_escaping(ph):
    body = json.dumps({"choices": [{"message": {"content": "[PERSON_1] and [PUPIL_1]"}}]}).encode()
    flow = reply_flow(ph, "application/json", body)
    RestoreAddon().response(flow)
    assert json.loads(flow.response.content)["choices"][0]["message"]["content"] == \
        'Mr "Dan" Smith\\ and Zoë O\'Brien'


def test_addon_does_nothing_unless_the_tool_opted_in(ph):
    body = b'{"content": "[PUPIL_1]"}'
    flow = reply_flow(ph, "application/json", body, restore=False)
    addon = RestoreAddon()
    addon.responseheaders(flow)
    addon.response(flow)
    assert flow.response.raw_content == body and not flow.response.stream


def test_addon_restores_server_websocket_frames_only(ph):
    flow = reply_flow(ph, "text/plain", b"")
    flow.websocket = websocket.WebSocketData()
    addon = RestoreAddon()
    flow.websocket.messages.append(websocket.WebSocketMessage(Opcode.TEXT, True, b'{"text": "[PUPIL_1]"}'))
    addon.websocket_message(flow)
    assert flow.websocket.messages[-1].content == '{"text": "[PUPIL_1]"}'.encode()   # from the client: as sent
    flow.websocket.messages.append(websocket.WebSocketMessage(Opcode.TEXT, False, b'{"text": "[PERSON_1]"}'))
    addon.websocket_message(flow)
    assert json.loads(flow.websocket.messages[-1].text) == {"text": 'Mr "Dan" Smith\\'}
