"""Request bodies arrive compressed (gzip, deflate, br, zstd, chained) and may be bombs: decode with a hard cap."""
import gzip
import zlib

import brotli
import pytest
import zstandard
from mitmproxy.net import encoding as mitm_encoding

from proxy.bodies import BodyDecodeError, BodyTooLarge, decode_request_body, encodings_of

PROMPT = ('{"model":"gpt-4o","messages":[{"role":"user","content":"Report for Zoë O\'Brien, UPN A820106510023"}]}'
          .encode("utf-8"))
LIMIT = 1024 * 1024


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_each_encoding_as_mitmproxy_writes_it(coding):
    raw = mitm_encoding.encode(PROMPT, coding)
    assert raw != PROMPT
    assert decode_request_body(raw, coding, LIMIT) == PROMPT


def test_identity_and_missing_header_pass_through():
    assert decode_request_body(PROMPT, "", LIMIT) == PROMPT
    assert decode_request_body(PROMPT, None, LIMIT) == PROMPT
    assert decode_request_body(PROMPT, "identity", LIMIT) == PROMPT


def test_raw_deflate_is_accepted_like_browsers_do():
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = c.compress(PROMPT) + c.flush()
    assert decode_request_body(raw, "deflate", LIMIT) == PROMPT


def test_chained_encodings_are_undone_last_first():
    raw = brotli.compress(gzip.compress(PROMPT))
    assert encodings_of("gzip, br") == ["gzip", "br"]
    assert decode_request_body(raw, "gzip, br", LIMIT) == PROMPT
    assert decode_request_body(zstandard.compress(zlib.compress(PROMPT)), "Deflate,ZSTD", LIMIT) == PROMPT


def test_concatenated_gzip_members():
    raw = gzip.compress(PROMPT[:20]) + gzip.compress(PROMPT[20:])
    assert decode_request_body(raw, "gzip", LIMIT) == PROMPT


def test_multi_frame_zstd():
    raw = zstandard.compress(PROMPT[:30]) + zstandard.compress(PROMPT[30:])
    assert decode_request_body(raw, "zstd", LIMIT) == PROMPT


BOMB = b"\0" * (64 * 1024 * 1024)  # 64 MB of zeros: a few KB compressed


@pytest.mark.parametrize("coding,compress", [
    ("gzip", lambda d: gzip.compress(d, 9)),
    ("deflate", lambda d: zlib.compress(d, 9)),
    ("br", lambda d: brotli.compress(d, quality=5)),
    ("zstd", lambda d: zstandard.compress(d, 3)),
])
def test_decompression_bomb_stops_at_the_limit(coding, compress):
    raw = compress(BOMB)
    assert len(raw) < 200_000
    with pytest.raises(BodyTooLarge) as info:
        decode_request_body(raw, coding, LIMIT)
    assert info.value.reason == "body_too_large"
    assert info.value.limit == LIMIT


def test_body_of_exactly_the_limit_is_fine_one_more_byte_is_not():
    data = b"a" * 1000
    assert decode_request_body(gzip.compress(data), "gzip", 1000) == data
    with pytest.raises(BodyTooLarge):
        decode_request_body(gzip.compress(data + b"a"), "gzip", 1000)
    with pytest.raises(BodyTooLarge):
        decode_request_body(data + b"a", "", 1000)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_corrupt_and_truncated_bodies_raise_decode_error(coding):
    good = mitm_encoding.encode(PROMPT * 20, coding)
    for bad in (b"this is not compressed at all", good[: len(good) // 2]):
        with pytest.raises(BodyDecodeError) as info:
            decode_request_body(bad, coding, LIMIT)
        assert "Zoë" not in str(info.value) and "A8201" not in str(info.value)


def test_unknown_encoding_is_an_error_not_a_blind_forward():
    with pytest.raises(BodyDecodeError, match="compress"):
        decode_request_body(PROMPT, "compress", LIMIT)


def test_empty_compressed_body():
    assert decode_request_body(b"", "gzip", LIMIT) == b""
