"""proxy/channels.py on its own: which headers pass unread, how URL, header and cookie texts are read and written."""
from __future__ import annotations

from mitmproxy import http

from proxy.channels import Channels, KnownClean, ServiceCookies, readable, reviewed

BROWSER_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
              "Safari/537.36")


def test_reviewed_headers_pass_only_with_their_shape():
    for name, value in [("user-agent", BROWSER_UA), ("user-agent", "OpenAI/Python 1.54.0"),
                        ("authorization", "Bearer sk-proj-a1b2c3d4e5f6g7h8"), ("accept-language", "cy-GB,cy;q=0.9"),
                        ("accept-encoding", "gzip, deflate, br, zstd"), ("x-stainless-os", "Linux"),
                        ("sec-ch-ua", '"Chromium";v="120", "Not(A:Brand";v="24"'),
                        ("content-type", "multipart/form-data; boundary=6a1f0e2c9d")]:
        assert reviewed(name, value), (name, value)
    for name, value in [("user-agent", "Amara Okafor"), ("authorization", "Bearer Amara Okafor"),
                        ("accept-encoding", "amara"), ("x-stainless-os", "Amara"), ("x-note", "fine"),
                        ("cache-control", "no-cache, okafor")]:
        assert not reviewed(name, value), (name, value)


def test_slugs_and_escapes_are_read_as_words_placeholders_intact():
    assert readable("oliver-smith_report%20draft") == "oliver smith report draft"
    assert readable("%5BPUPIL_1%5D-report") == "[PUPIL_1] report"


def _request() -> http.Request:
    request = http.Request.make("GET", "https://chatgpt.com/c/oliver-smith/0f8e2b1c9d7a6e5f?q=Oliver+Smith", b"",
                                {"user-agent": BROWSER_UA, "x-title": "Oliver Smith",
                                 "cookie": "sid=s3cr3t; draft=Oliver%20Smith"})
    return request


def test_every_channel_is_read_and_redacted_in_place():
    request = _request()
    cookies = ServiceCookies()
    channels = Channels(request, "chatgpt", cookies)
    # the id-shaped segment and the browser's User-Agent are not read; everything else is
    assert channels.texts == ["c", "oliver smith", "q", "Oliver Smith", "x title", "Oliver Smith", "sid", "s3cr3t",
                              "draft", "Oliver Smith"]
    redacted = [t.replace("Oliver Smith", "[PUPIL_1]").replace("oliver smith", "[PUPIL_1]") for t in channels.texts]
    assert channels.rewrite(request, redacted)
    assert "oliver" not in (request.path + str(request.headers)).lower()
    assert Channels(request, "chatgpt", cookies).texts == redacted  # it reads back as written


def test_a_name_in_a_header_name_cannot_be_rewritten():
    request = http.Request.make("GET", "https://chatgpt.com/", b"", {"x-oliver-smith": "1"})
    channels = Channels(request, "chatgpt", ServiceCookies())
    assert not channels.rewrite(request, [t.replace("oliver smith", "[PUPIL_1]") for t in channels.texts])
    assert "x-oliver-smith" in request.headers  # nothing written


def test_cookies_the_service_set_are_not_read_and_known_clean_texts_are_scoped():
    cookies = ServiceCookies()
    cookies.learn("chatgpt", http.Response.make(200, b"", {"set-cookie": "sid=s3cr3t; Path=/; HttpOnly"}))
    texts = Channels(_request(), "chatgpt", cookies).texts
    assert "s3cr3t" not in texts and "Oliver Smith" in texts
    assert "s3cr3t" in Channels(_request(), "claude", cookies).texts  # another service's cookie of that name
    clean = KnownClean()
    clean.add(0, "chatgpt", "staff", "c")
    assert clean.seen(0, "chatgpt", "staff", "c") and not clean.seen(1, "chatgpt", "staff", "c")
    assert not clean.seen(0, "chatgpt", "pupil", "c")
