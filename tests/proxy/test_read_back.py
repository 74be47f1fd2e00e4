"""A redacted request is read back before it leaves: it must carry exactly the texts the engine approved.

The proxy no longer scans a rewritten body a second time; instead the rewritten request is decoded and extracted
again, exactly as the original was. These tests break the rewrite in the ways an adapter bug could (an original left
in another field, texts written to the wrong places, a query value or header not rewritten) and check it would not leave.
"""
from __future__ import annotations

import gzip
import json

import pytest
from mitmproxy import http
from mitmproxy.test import taddons

from proxy.adapters import Extraction, extract_for
from proxy.addons.guard import PupilGuard
from proxy.catalogue import Catalogue

ORIGINAL = "Write a report for Oliver Smith in 8B."
REDACTED = "Write a report for [PUPIL_1] in 8B."
PATH = ["v1", "chat", "completions"]  # the URL's path segments, read like every other channel (proxy/channels.py)


@pytest.fixture(scope="module")
def openai():
    return Catalogue.load().service("openai-api")


@pytest.fixture
def guard():
    addon = PupilGuard(catalogue=Catalogue.load(), allowlist=None, pool=None, spool=None, metrics=None)
    with taddons.context(addon):
        yield addon


def chat_request(*texts: str, **fields) -> http.Request:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": t} for t in texts], **fields}
    return http.Request.make("POST", "https://api.openai.com/v1/chat/completions", json.dumps(body).encode(),
                             {"content-type": "application/json"})


def rewrite(service, request: http.Request, new_texts: list[str]) -> None:
    extraction = extract_for(service, request.content, request.headers["content-type"], request.path)
    assert isinstance(extraction, Extraction)
    request.content = extraction.rebuild(new_texts)


def test_a_faithful_rewrite_reads_back(guard, openai):
    request = chat_request(ORIGINAL, "And a second message.")
    rewrite(openai, request, [REDACTED, "And a second message."])
    assert guard._reads_back(request, openai, [REDACTED, "And a second message."], PATH)


def test_a_rewritten_body_sent_compressed_is_read_back_decompressed(guard, openai):
    request = chat_request(ORIGINAL)
    rewrite(openai, request, [REDACTED])
    request.raw_content = gzip.compress(request.content)
    request.headers["content-encoding"] = "gzip"
    assert guard._reads_back(request, openai, [REDACTED], PATH)


def test_an_original_left_in_another_field_does_not_leave(guard, openai):
    request = chat_request(ORIGINAL)
    rewrite(openai, request, [REDACTED])
    body = json.loads(request.content)
    body["metadata"] = {"title": ORIGINAL}  # e.g. a rebuild that missed a copy of the prompt
    request.content = json.dumps(body).encode()
    assert not guard._reads_back(request, openai, [REDACTED], PATH)


def test_texts_written_to_the_wrong_places_do_not_leave(guard, openai):
    request = chat_request(ORIGINAL, "Thank you.")
    rewrite(openai, request, ["Thank you.", REDACTED])
    assert not guard._reads_back(request, openai, [REDACTED, "Thank you."], PATH)


def test_an_unreadable_rewrite_does_not_leave(guard, openai):
    request = chat_request(ORIGINAL)
    request.content = b"\x00\xff not json"
    assert not guard._reads_back(request, openai, [REDACTED], PATH)


def test_a_query_value_left_unredacted_does_not_leave(guard, openai):
    request = chat_request("Hello")
    request.query = [("q", ORIGINAL)]
    assert not guard._reads_back(request, openai, None, [*PATH, "q", REDACTED])
    request.query = [("q", REDACTED)]
    assert guard._reads_back(request, openai, None, [*PATH, "q", REDACTED])


def test_a_header_or_cookie_left_unredacted_does_not_leave(guard, openai):
    request = chat_request("Hello")
    request.headers["x-note"] = ORIGINAL
    assert not guard._reads_back(request, openai, None, [*PATH, "x note", REDACTED])
    request.headers["x-note"] = REDACTED
    assert guard._reads_back(request, openai, None, [*PATH, "x note", REDACTED])
    request.headers["cookie"] = "draft=" + ORIGINAL.replace(" ", "%20")
    assert not guard._reads_back(request, openai, None, [*PATH, "x note", REDACTED, "draft", REDACTED])
