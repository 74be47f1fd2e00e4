"""Consumer web apps (ChatGPT, Claude, Gemini, Perplexity, DeepSeek, Meta AI, Grok, Poe, Le Chat) and the
WebSocket frames of Copilot, Microsoft 365 Copilot and character.ai.

These are private, changing protocols (read from what each web app sends): each function knows where the
prompt sits today and which id names the conversation; every other string of the document is swept up by
generic.json_body, and when a function finds nothing the caller falls back to scanning every string.
"""
from __future__ import annotations

import re
from typing import Any

from .base import Extraction, Form, JsonSlots, Path, join, parse_json
from .generic import form_body, json_body, walk_read_only

__all__ = ["chatgpt_web", "claude_web", "gemini_web", "meta_ai", "perplexity", "deepseek_web", "grok", "poe",
           "le_chat", "copilot_ws", "character_ai_ws", "m365_copilot_ws"]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _path_id(pattern: str, url_path: str) -> str | None:
    m = re.search(pattern, url_path)
    return m.group(1) if m else None


def chatgpt_web(slots: JsonSlots, url_path: str) -> None:
    doc = slots.doc
    if not isinstance(doc, dict):
        return
    for i, m in enumerate(doc.get("messages") or []):
        c = m.get("content") if isinstance(m, dict) else None
        if not isinstance(c, dict):
            continue
        base: Path = ("messages", i, "content")
        for j, part in enumerate(c.get("parts") or []):
            if isinstance(part, str):  # multimodal_text mixes these with {asset_pointer} objects
                slots.text(base + ("parts", j))
            elif isinstance(part, dict) and part.get("content_type") == "text":
                slots.text(base + ("parts", j, "text"))
        for key in ("text", "user_profile", "user_instructions"):  # code / user_editable_context content types
            slots.text(base + (key,))
    slots.conversation = _str(doc.get("conversation_id"))


def claude_web(slots: JsonSlots, url_path: str) -> None:
    doc = slots.doc
    if not isinstance(doc, dict):
        return
    slots.text(("prompt",))
    for i, a in enumerate(doc.get("attachments") or []):
        if isinstance(a, dict):
            slots.text(("attachments", i, "extracted_content"))
            slots.text(("attachments", i, "file_name"))
    for i, style in enumerate(doc.get("personalized_styles") or []):
        if isinstance(style, dict) and style.get("type") == "default":  # Claude's own wording: read, never rewritten
            walk_read_only(slots, ("personalized_styles", i), style)
    slots.conversation = _path_id(r"/chat_conversations/([^/]+)", url_path)


def perplexity(slots: JsonSlots, url_path: str) -> None:
    slots.text(("query_str",))
    slots.text(("params", "dsl_query"))
    params = slots.get(("params",))
    if isinstance(params, dict):
        slots.conversation = _str(params.get("last_backend_uuid")) or _str(params.get("frontend_context_uuid"))


def deepseek_web(slots: JsonSlots, url_path: str) -> None:
    slots.text(("prompt",))
    if isinstance(slots.doc, dict):
        slots.conversation = _str(slots.doc.get("chat_session_id"))


def grok(slots: JsonSlots, url_path: str) -> None:
    slots.text(("message",))
    slots.conversation = _path_id(r"/conversations/([^/]+)/responses", url_path)


def poe(slots: JsonSlots, url_path: str) -> None:
    slots.text(("variables", "query"))
    variables = slots.get(("variables",))
    if isinstance(variables, dict) and variables.get("chatId") is not None:
        slots.conversation = str(variables["chatId"])


def le_chat(slots: JsonSlots, url_path: str) -> None:
    """tRPC batch: {"0": {"json": {"content": [{"type": "text", "text": ...}] | "...", ...}}}."""
    doc = slots.doc
    if not isinstance(doc, dict):
        return
    for key, call in doc.items():
        body = call.get("json") if isinstance(call, dict) else None
        if not isinstance(body, dict):
            continue
        c = body.get("content")
        if isinstance(c, str):
            slots.text((key, "json", "content"))
        elif isinstance(c, list):
            for i, part in enumerate(c):
                if isinstance(part, dict) and part.get("type") == "text":
                    slots.text((key, "json", "content", i, "text"))
        slots.conversation = slots.conversation or _str(body.get("chatId"))


def copilot_ws(slots: JsonSlots, url_path: str) -> None:
    doc = slots.doc
    if not isinstance(doc, dict) or doc.get("event") != "send":
        return
    for i, part in enumerate(doc.get("content") or []):
        if isinstance(part, dict) and part.get("type") == "text":
            slots.text(("content", i, "text"))
    slots.conversation = _str(doc.get("conversationId"))


def character_ai_ws(slots: JsonSlots, url_path: str) -> None:
    turn = slots.get(("payload", "turn"))
    if not isinstance(turn, dict):
        return
    for i, cand in enumerate(turn.get("candidates") or []):
        if isinstance(cand, dict):
            slots.text(("payload", "turn", "candidates", i, "raw_content"))
    key = turn.get("turn_key")
    if isinstance(key, dict):
        slots.conversation = _str(key.get("chat_id"))


# --- JSON inside form fields ----------------------------------------------------------------------------------------

def _nested_json(value: str, pick) -> Extraction | None:
    """The extraction of a JSON document held in a string; `pick(slots)` chooses the slots."""
    try:
        doc = parse_json(value)
    except ValueError:
        return None
    slots = JsonSlots(doc)
    pick(slots)
    return json_body(value, doc, slots)


def gemini_web(form: Form, url_path: str) -> Extraction | None:
    """f.req = JSON [null, "<inner JSON>"], the prompt at inner[0][0]; inner[2][0] is the conversation id."""
    found = form.value("f.req")
    if found is None:
        return None
    index, freq = found
    conversation: list[str] = []

    def inner(slots: JsonSlots) -> None:
        slots.text((0, 0))
        cid = slots.get((2, 0))
        if isinstance(cid, str) and cid:
            conversation.append(cid)

    def outer(slots: JsonSlots) -> None:
        value = slots.get((1,))
        if isinstance(value, str):
            slots.add((1,), _nested_json(value, inner))

    ex = _nested_json(freq, outer)
    if ex is None or not ex.texts:
        return None
    out = form_body(form, [(index, ex)])  # and the other fields
    out.conversation = conversation[0] if conversation else None
    return out


def meta_ai(form: Form, url_path: str) -> Extraction | None:
    """GraphQL form: field `variables` = JSON string with message.sensitive_string_value."""
    found = form.value("variables")
    if found is None:
        return None
    index, variables = found
    conversation: list[str] = []

    def pick(slots: JsonSlots) -> None:  # another GraphQL operation: json_body's sweep reads all its variables
        slots.text(("message", "sensitive_string_value"))
        slots.text(("message", "text"))
        cid = slots.get(("externalConversationId",))
        if isinstance(cid, str):
            conversation.append(cid)

    ex = _nested_json(variables, pick)
    if ex is None:
        return None
    out = form_body(form, [(index, ex)])  # and the other fields
    out.conversation = conversation[0] if conversation else None
    return out


# --- SignalR (Microsoft 365 Copilot) ------------------------------------------------------------------------------

_RS = "\x1e"


def m365_copilot_ws(body: bytes, url_path: str) -> Extraction | None:
    """SignalR JSON records each ending in \\x1e; invocations {"type":4,"target":"chat","arguments":[{"message":
    {"text": PROMPT}}]}. Handshake, ping and completion records pass through untouched."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _RS not in text:
        return None
    records = text.split(_RS)
    parts = []
    for i, record in enumerate(records):
        if not record.strip():
            continue
        try:
            doc = parse_json(record)
        except ValueError:
            return None
        if isinstance(doc, dict) and ("protocol" in doc or doc.get("type") in (6, 7)):
            continue  # the handshake, a ping or a close: nothing anyone typed
        slots = JsonSlots(doc)
        if isinstance(doc, dict) and doc.get("type") in (1, 4) and isinstance(doc.get("arguments"), list):
            for j, arg in enumerate(doc["arguments"]):
                if isinstance(arg, dict) and isinstance(arg.get("message"), dict):
                    slots.text(("arguments", j, "message", "text"))
                    slots.conversation = slots.conversation or _str(arg.get("conversationId"))
        ex = json_body(record, doc, slots)  # and every other string of the record (page context, other methods)
        if ex.texts:
            parts.append((i, ex))
    indexes = [i for i, _ in parts]

    def assemble(values: list[str]) -> bytes:
        out = list(records)
        for i, value in zip(indexes, values):
            out[i] = value
        return _RS.join(out).encode("utf-8")

    ex = join([e for _, e in parts], assemble, body)
    ex.conversation = next((e.conversation for _, e in parts if e.conversation), None)
    return ex
