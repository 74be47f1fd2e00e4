"""The official API schemas: OpenAI chat/responses (and every OpenAI-shaped vendor), Anthropic messages, Gemini.

OpenAI and Anthropic bodies are walked by one function: vendors reuse each other's schemas (DeepSeek and xAI
speak both), so the walker recognises the shape of each content block rather than trusting the host. Block types
it does not know are walked generically, so a new kind of text part is still scanned; fields it does not pick at
all (tool descriptions, `prediction`, metadata) are swept up by generic.json_body.
"""
from __future__ import annotations

from typing import Any

from .base import JsonSlots, Path
from .files import base64_extraction
from .generic import string_extraction, walk_json, walk_read_only

__all__ = ["chat_request", "gemini_request", "content", "block"]

_TEXT_BLOCKS = {"text": "text", "input_text": "text", "output_text": "text", "refusal": "refusal"}
_MEDIA_BLOCKS = {"image", "image_url", "input_image", "input_audio", "audio", "image_file", "container_upload"}
# Inline bytes of a media block, wherever each vendor puts them: checked like any file (a "PNG" that is really a
# CSV is scanned as text). URLs and file ids are left alone.
_MEDIA_DATA = (("image_url", "url"), ("image_url",), ("source", "data"), ("input_audio", "data"), ("data",))
_SIGNED_BLOCKS = {"thinking", "redacted_thinking", "reasoning", "compaction"}  # altering them breaks signatures


def content(slots: JsonSlots, path: Path, value: Any) -> None:
    """A message's content: a string, a list of parts/blocks, or a single part."""
    if isinstance(value, str):
        slots.text(path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            block(slots, path + (i,), item)
    elif isinstance(value, dict):
        block(slots, path, value)


def _json_string(slots: JsonSlots, path: Path) -> None:
    """A string holding JSON written by a model or tool (function-call arguments)."""
    value = slots.get(path)
    if isinstance(value, str):
        slots.add(path, string_extraction(value))


def _file(slots: JsonSlots, path: Path, mime: str = "", filename: str = "") -> None:
    value = slots.get(path)
    if isinstance(value, str) and value:
        slots.add(path, base64_extraction(value, mime, filename))


def _inline_data(value: Any, key: Path) -> bool:
    return isinstance(value, str) and (value.startswith("data:") or (key[-1] == "data" and "://" not in value[:16]))


def block(slots: JsonSlots, path: Path, b: Any) -> None:
    if isinstance(b, str):
        slots.text(path)
        return
    if not isinstance(b, dict):
        return
    kind = b.get("type")
    if kind in _TEXT_BLOCKS:
        slots.text(path + (_TEXT_BLOCKS[kind],))
    elif kind in _MEDIA_BLOCKS:
        inline = [key for key in _MEDIA_DATA if _inline_data(slots.get(path + key), key)]
        for key in inline:  # read like an uploaded file: media gets its own note, text is scanned
            _file(slots, path + key, mime=str(slots.get(path + ("source", "media_type")) or ""))
        if not inline:  # a URL or a file id: the bytes are not in this request
            slots.notes.append("media_not_scanned")
    elif kind in _SIGNED_BLOCKS:  # scanned, never rewritten: a needed change blocks the request
        walk_read_only(slots, path, b)
    elif kind == "file":  # OpenAI chat: {"type":"file","file":{"filename","file_data"}}
        f = b.get("file") if isinstance(b.get("file"), dict) else {}
        _file(slots, path + ("file", "file_data"), filename=str(f.get("filename") or ""))
    elif kind == "input_file":  # OpenAI responses
        _file(slots, path + ("file_data",), filename=str(b.get("filename") or ""))
    elif kind == "document":  # Anthropic
        for key in ("title", "context"):
            slots.text(path + (key,))
        src = b.get("source") if isinstance(b.get("source"), dict) else {}
        if src.get("type") == "text":
            slots.text(path + ("source", "data"))
        elif src.get("type") == "base64":
            _file(slots, path + ("source", "data"), mime=str(src.get("media_type") or ""))
        elif src.get("type") == "content":
            content(slots, path + ("source", "content"), src.get("content"))
        elif src.get("type") not in ("url", "file"):
            walk_json(slots, path + ("source",), src)
    elif kind in ("tool_result", "search_result", "web_search_tool_result", "mcp_tool_result"):
        slots.text(path + ("title",))
        content(slots, path + ("content",), b.get("content"))
    elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):  # the name is read by the sweep
        walk_json(slots, path + ("input",), b.get("input"))
    elif kind in ("function_call", "custom_tool_call"):
        _json_string(slots, path + ("arguments",))
        _json_string(slots, path + ("input",))
    elif kind in ("function_call_output", "custom_tool_call_output", "computer_call_output",
                  "mcp_approval_response", "local_shell_call_output"):
        content(slots, path + ("output",), b.get("output"))
    elif kind == "message" or (kind is None and "role" in b):
        content(slots, path + ("content",), b.get("content"))
    elif kind == "item_reference":
        return
    else:  # a block type we do not know yet: scan its strings rather than let them pass
        walk_json(slots, path, b)


def _messages(slots: JsonSlots, path: Path, messages: Any) -> None:
    if not isinstance(messages, list):
        return
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            continue
        content(slots, path + (i, "content"), m.get("content"))
        for j, call in enumerate(m.get("tool_calls") or []):
            if isinstance(call, dict):  # the function's name is read by the sweep, like every other string
                _json_string(slots, path + (i, "tool_calls", j, "function", "arguments"))
        if isinstance(m.get("function_call"), dict):
            _json_string(slots, path + (i, "function_call", "arguments"))


def chat_request(slots: JsonSlots, path: Path = (), doc: Any = None, depth: int = 0) -> None:
    """OpenAI chat completions / responses / completions / embeddings / threads, Anthropic messages / batches."""
    doc = slots.doc if doc is None and not path else doc
    if not isinstance(doc, dict) or depth > 4:
        return
    for key in ("system", "instructions", "additional_instructions"):
        content(slots, path + (key,), doc.get(key))
    _messages(slots, path + ("messages",), doc.get("messages"))
    _messages(slots, path + ("additional_messages",), doc.get("additional_messages"))
    if "role" in doc:  # a single message (threads/{id}/messages) - "content" with a role beside it
        content(slots, path + ("content",), doc.get("content"))
    for key in ("input", "prompt", "suffix"):
        value = doc.get(key)
        if isinstance(value, (str, list)):
            content(slots, path + (key,), value)
        elif isinstance(value, dict):  # responses `prompt` template: {"id", "variables": {...}}
            walk_json(slots, path + (key, "variables"), value.get("variables"))
    thread = doc.get("thread")
    if isinstance(thread, dict):
        _messages(slots, path + ("thread", "messages"), thread.get("messages"))
    for i, req in enumerate(doc.get("requests") or []):  # Anthropic message batches
        if isinstance(req, dict) and isinstance(req.get("params"), dict):
            chat_request(slots, path + ("requests", i, "params"), req["params"], depth + 1)
    for key in ("session", "response", "item"):  # OpenAI realtime / responses WebSocket events
        value = doc.get(key)
        if isinstance(value, dict):
            if key == "item":
                block(slots, path + (key,), value)
            else:
                chat_request(slots, path + (key,), value, depth + 1)


# --- Gemini -------------------------------------------------------------------------------------------------------

def _gemini_content(slots: JsonSlots, path: Path, c: Any) -> None:
    if isinstance(c, str):
        slots.text(path)
        return
    if not isinstance(c, dict):
        return
    parts = c.get("parts")
    if not isinstance(parts, list):
        return
    for i, part in enumerate(parts):
        p = path + ("parts", i)
        if not isinstance(part, dict) or part.get("thought") is True:
            continue
        slots.text(p + ("text",))
        for key in ("inlineData", "inline_data"):
            inline = part.get(key)
            if isinstance(inline, dict):
                mime = str(inline.get("mimeType") or inline.get("mime_type") or "")
                _file(slots, p + (key, "data"), mime=mime)
        for key in ("functionResponse", "function_response"):
            if isinstance(part.get(key), dict):
                walk_json(slots, p + (key, "response"), part[key].get("response"))
        for key in ("functionCall", "function_call"):
            if isinstance(part.get(key), dict):
                walk_json(slots, p + (key, "args"), part[key].get("args"))


def gemini_request(slots: JsonSlots, path: Path = (), doc: Any = None, depth: int = 0) -> None:
    """generateContent / streamGenerateContent / countTokens / embedContent / batch / cachedContents / Live."""
    doc = slots.doc if doc is None and not path else doc
    if not isinstance(doc, dict) or depth > 4:
        return
    for key in ("contents", "turns"):
        items = doc.get(key)
        if isinstance(items, list):
            for i, c in enumerate(items):
                _gemini_content(slots, path + (key, i), c)
    for key in ("systemInstruction", "system_instruction", "content"):
        _gemini_content(slots, path + (key,), doc.get(key))
    for key in ("text",):  # Live API realtimeInput.text
        slots.text(path + (key,))
    for i, req in enumerate(doc.get("requests") or []):
        chat = req.get("request") if isinstance(req, dict) and isinstance(req.get("request"), dict) else None
        if chat is not None:
            gemini_request(slots, path + ("requests", i, "request"), chat, depth + 1)
        else:
            gemini_request(slots, path + ("requests", i), req, depth + 1)
    for key in ("generateContentRequest", "generate_content_request", "setup", "clientContent", "client_content",
                "realtimeInput", "realtime_input"):
        if isinstance(doc.get(key), dict):
            gemini_request(slots, path + (key,), doc[key], depth + 1)
