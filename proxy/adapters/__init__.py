"""Body adapters: find the texts a user typed (or attached) in an AI request, and write redacted ones back.

Pure functions: no mitmproxy, no network. The proxy calls

    extract_for(service, body, content_type, path) -> Extraction | Unreadable      (HTTP request bodies)
    extract_ws(service, message, path)             -> Extraction | Unreadable      (client WebSocket messages)

`service` is a catalogue entry (proxy.catalogue.Service) or None. The body must already be decoded
(proxy.bodies.decode_request_body). Order of attempts, so that nothing on a prompt path is forwarded blind:

1. the endpoint's own adapter (from the catalogue). A JSON adapter picks the fields it knows, then every other
   string *and key* of the document is swept up too (generic.json_body): a field the adapter does not know - a
   tool description, page context - is never forwarded unscanned. Only the reviewed fields of fields.py, with a
   value of their shape, are left out; duplicate keys and documents nested deeper than we read are Unreadable;
2. if that finds no text or cannot parse the body: every string of a JSON or form body (generic.py),
   the files of a multipart body, or the whole body as text;
3. if the body is not text at all (or holds a file we cannot read): `Unreadable` - the proxy blocks.

Whatever the step, text hidden as base64 inside a found text ("decode this: VGhlIHB1cGls...") is decoded and
appended as extra, read-only texts: scanned like the rest, and a change to one makes rebuild return None (block).

`Extraction.rebuild(new_texts)` returns the new body bytes, or None when the texts changed but the container
cannot be rewritten (PDF uploads, or a change a Word or Excel file cannot carry): the proxy must then block.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from . import web
from .base import CannotRead, Extraction, Form, JsonSlots, Unreadable, parse_json, plus_read_only
from .files import decoded_runs
from .chat import chat_request, gemini_request
from .generic import generic_form, generic_json, json_body, whole_text
from .grpc import grpc_body
from .multipart import boundary_of, multipart, raw_upload

if TYPE_CHECKING:
    from proxy.catalogue import Service

__all__ = ["Adapter", "Extraction", "Unreadable", "extract_for", "extract_ws", "extract", "ADAPTERS", "WS_ADAPTERS"]


class Adapter(NamedTuple):
    """kind: json (fn(slots, url_path) picks slots in the parsed body), form (fn(Form, url_path) -> Extraction),
    frames (fn(body, url_path) -> Extraction, final even when empty), upload (multipart or raw file), generic."""

    kind: str
    fn: Any = None


def _openai(slots: JsonSlots, url_path: str) -> None:
    chat_request(slots)


def _gemini(slots: JsonSlots, url_path: str) -> None:
    gemini_request(slots)


# The names catalogue.yaml refers to.
ADAPTERS: dict[str, Adapter] = {
    "openai_chat": Adapter("json", _openai),
    "anthropic_messages": Adapter("json", _openai),  # one walker: vendors reuse each other's shapes
    "gemini_api": Adapter("json", _gemini),
    "chatgpt_web": Adapter("json", web.chatgpt_web),
    "claude_web": Adapter("json", web.claude_web),
    "perplexity": Adapter("json", web.perplexity),
    "deepseek_web": Adapter("json", web.deepseek_web),
    "grok": Adapter("json", web.grok),
    "poe": Adapter("json", web.poe),
    "le_chat": Adapter("json", web.le_chat),
    "gemini_web": Adapter("form", web.gemini_web),
    "meta_ai": Adapter("form", web.meta_ai),
    "grpc": Adapter("frames", grpc_body),
    "upload": Adapter("upload"),
    "generic": Adapter("generic"),
}

WS_ADAPTERS: dict[str, Adapter] = {
    "copilot_ws": Adapter("json", web.copilot_ws),
    "character_ai_ws": Adapter("json", web.character_ai_ws),
    "openai_realtime_ws": Adapter("json", _openai),
    "gemini_live_ws": Adapter("json", _gemini),
    "m365_copilot_ws": Adapter("frames", web.m365_copilot_ws),
    "generic": Adapter("generic"),
}


def _mime(content_type: str) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _looks_json(body: bytes) -> bool:
    head = body[:64].lstrip(b" \t\r\n\xef\xbb\xbf")
    return head[:1] in (b"{", b"[")


def _specific(kind: str, fn: Any, body: bytes, content_type: str, path: str) -> Extraction | None:
    if kind == "json":
        try:
            doc = parse_json(body)
        except ValueError:
            return None
        slots = JsonSlots(doc)
        fn(slots, path)
        if not slots.slots:  # not the shape this adapter knows: step 2 reads it all, and says so in the notes
            return Extraction.empty(body, notes=slots.notes)
        return json_body(body, doc, slots)
    if kind == "form":
        return fn(Form(body), path) if _mime(content_type) == "application/x-www-form-urlencoded" else None
    if kind == "frames":
        return fn(body, path)
    if kind == "upload":
        if boundary_of(content_type):
            return multipart(body, content_type)
        return raw_upload(body, content_type)
    return None


def _generic(body: bytes, content_type: str) -> Extraction | Unreadable:
    """Step 2 of the module docstring."""
    mime = _mime(content_type)
    if boundary_of(content_type):
        ex = multipart(body, content_type)
        if ex is not None:
            return ex
    if mime.endswith("json") or _looks_json(body):
        try:
            return generic_json(body, parse_json(body))
        except ValueError:
            pass
    if mime == "application/x-www-form-urlencoded":
        ex = generic_form(body)
        if ex.texts:
            return ex
    ex = whole_text(body)
    if ex is None:
        return Unreadable("body_not_text")
    return ex


def extract(adapter: str, body: bytes, content_type: str = "", path: str = "", *,
            table: dict[str, Adapter] | None = None) -> Extraction | Unreadable:
    """Run one named adapter with the fallbacks described above. Never raises."""
    if not body:
        return Extraction.empty(body, adapter)
    kind, fn = (table or ADAPTERS).get(adapter, Adapter("generic"))
    try:
        ex = _specific(kind, fn, body, content_type, path)
        # Upload and framed (SignalR) adapters read the whole body themselves, so an empty result is final.
        if ex is not None and (ex.texts or kind in ("upload", "frames")):
            if kind != "upload":
                ex.adapter = adapter
            return _with_decoded_runs(ex)
        notes = ex.notes if ex is not None else []
        result = _generic(body, content_type)
    except CannotRead as exc:
        return Unreadable(exc.reason)
    except RecursionError:
        return Unreadable("body_too_deep")
    except Exception as exc:  # noqa: BLE001 - an adapter bug must block the request, never crash the proxy
        return Unreadable(f"adapter_error:{type(exc).__name__}")
    if isinstance(result, Extraction):
        fallback = [] if kind == "generic" else [f"fallback:{result.adapter or 'generic'}"]
        result.notes = notes + result.notes + fallback
        return _with_decoded_runs(result)
    return result


def _with_decoded_runs(ex: Extraction) -> Extraction:
    """`ex` plus the texts hidden as base64 inside its texts, read-only (see the module docstring)."""
    return plus_read_only(ex, [d for t in ex.texts for d in decoded_runs(t)], "base64_text_decoded")


def extract_for(service: "Service | None", body: bytes, content_type: str, path: str) -> Extraction | Unreadable:
    """Extract the texts of an HTTP request body sent to `service` at `path` (query string allowed)."""
    adapter = service.adapter_for(path) if service is not None else None
    return extract(adapter or "generic", body, content_type, path)


def extract_ws(service: "Service | None", message: bytes | str, path: str = "") -> Extraction | Unreadable:
    """Extract the texts of one client-to-server WebSocket message. rebuild() returns bytes (UTF-8 for text)."""
    body = message.encode("utf-8", "surrogatepass") if isinstance(message, str) else message
    adapter = service.ws_adapter_for(path) if service is not None else None
    return extract(adapter or "generic", body, "application/json" if _looks_json(body) else "", path,
                   table=WS_ADAPTERS)
