"""Pictures through a running `pupilguard proxy`: the real openai/anthropic SDKs send class lists and MIS screenshots
as image parts; the fake upstream records what an AI provider would have received, and OCR reads it back.

Every rostered name must be unreadable in what arrives, while the headings and marks stay readable; a picture that
links a pupil to special-category information (EHCP) never arrives; a huge picture never holds up anyone's text.
"""
from __future__ import annotations

import base64
import io
import threading
import time
from pathlib import Path

import anthropic
import httpx
import httpx2
import openai
import pytest
from PIL import Image

from tests.support.pictures import MARKS, class_list, names_found, read_text, start_roster_proxy

pytestmark = pytest.mark.e2e

CHAT = "/v1/chat/completions"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def ocr_proxy(start_proxy, tmp_path_factory: pytest.TempPathFactory):
    """A proxy with a roster of the pupils in the pictures, bodies up to 40 MB, pictures read within 20 s."""
    return start_roster_proxy(start_proxy, tmp_path_factory.mktemp("ocr-proxy"), "--max-body", str(40 * 1024 * 1024))


def openai_client(proxy) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                         http_client=httpx.Client(proxy=proxy.url, verify=proxy.ssl, timeout=120))


def image_message(data: bytes, mime: str = "image/png", text: str = "Summarise these marks for the class.") -> list:
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return [{"role": "user", "content": [{"type": "text", "text": text},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


def sent_image(received) -> bytes:
    url = received.json()["messages"][0]["content"][1]["image_url"]["url"]
    return base64.b64decode(url.split(",", 1)[1])


def assert_redacted(original: bytes, sent: bytes, fmt: str) -> str:
    """`sent` is `original` redrawn: same format and size, no rostered name readable. Returns its OCR text."""
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(sent))
    assert after.format == fmt and after.size == before.size
    assert sent != original
    text = read_text(sent)
    assert names_found(text) == []
    return text


def test_class_list_png_arrives_with_every_rostered_name_unreadable(ocr_proxy, upstream):
    original = class_list()
    assert len(names_found(read_text(original))) == 12  # the test picture really shows every name
    reply = openai_client(ocr_proxy).chat.completions.create(model="gpt-4o", messages=image_message(original))
    assert reply.choices[0].message.content

    [received] = upstream.requests_to(CHAT)
    doc = received.json()
    assert doc["messages"][0]["content"][0]["text"] == "Summarise these marks for the class."
    assert doc["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    text = assert_redacted(original, sent_image(received), "PNG")
    assert "Year 7 Maths Assessment" in text and "Mark" in text  # headings and marks are still there
    assert sum(mark in text for mark in MARKS) >= len(MARKS) - 1


def test_jpeg_through_anthropic_sdk_is_redacted_and_loses_its_exif(ocr_proxy, upstream):
    exif = Image.Exif()
    exif[0x013B] = "Amara Okafor"  # Artist: a name in the metadata, not the pixels
    original = class_list(styles=[("DejaVuSans.ttf", 18)], fmt="JPEG", quality=95, exif=exif.tobytes())
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url="https://api.anthropic.com", max_retries=0,
                                 http_client=httpx2.Client(proxy=ocr_proxy.url, verify=ocr_proxy.ssl, timeout=120))
    client.messages.create(model="claude-test", max_tokens=50, messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg",
                                     "data": base64.b64encode(original).decode()}},
        {"type": "text", "text": "Which pupils need support?"}]}])
    [received] = upstream.requests_to("/v1/messages")
    sent = base64.b64decode(received.json()["messages"][0]["content"][0]["source"]["data"])
    assert_redacted(original, sent, "JPEG")
    assert b"Okafor" not in sent and not Image.open(io.BytesIO(sent)).getexif()


def test_gemini_inline_webp_is_redacted(ocr_proxy, upstream):
    original = class_list(styles=[("DejaVuSerif.ttf", 18)], fmt="WEBP", quality=95)
    body = {"contents": [{"role": "user", "parts": [
        {"text": "Group these pupils by mark."},
        {"inlineData": {"mimeType": "image/webp", "data": base64.b64encode(original).decode()}}]}]}
    with ocr_proxy.client() as client:
        r = client.post("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
                        json=body, headers={"x-goog-api-key": "test"})
    assert r.status_code == 200
    [received] = [q for q in upstream.received if "generateContent" in q.path]
    sent = base64.b64decode(received.json()["contents"][0]["parts"][1]["inlineData"]["data"])
    assert_redacted(original, sent, "WEBP")


def test_gif_upload_is_redacted_and_scanned_pdf_naming_pupils_is_refused(ocr_proxy, upstream):
    from tests.support.proxy import upload_through

    original = class_list(styles=[("DejaVuSans.ttf", 18)], fmt="GIF")
    assert_redacted(original, upload_through(ocr_proxy, upstream, "class.gif", original), "GIF")

    scan = io.BytesIO()  # a "scanned" page: the class list as a picture inside a PDF, no text layer
    Image.open(io.BytesIO(class_list(styles=[("DejaVuSerif.ttf", 20)]))).save(scan, format="PDF", resolution=150)
    client = openai_client(ocr_proxy)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.files.create(file=("scan.pdf", scan.getvalue()), purpose="assistants")
    assert "scanned PDF" in str(refused.value) and "pictures" in str(refused.value)
    assert not [q for q in upstream.requests_to("/v1/files") if b"scan.pdf" in q.body]


# ---------------------------------------------------------------------------------------------- Chromium

MARKBOOK = """<!doctype html><html><head><style>
body {{ font-family: 'DejaVu Sans', sans-serif; margin: 0; background: #f3f5f8; }}
header {{ background: #1d4f91; color: white; padding: 12px 20px; font-size: 20px; }}
nav {{ background: #dfe6ef; padding: 8px 20px; font-size: 14px; }}
table {{ border-collapse: collapse; margin: 20px; background: white; font-size: 15px; }}
th, td {{ border: 1px solid #b8c2cf; padding: 6px 14px; text-align: left; }}
th {{ background: #eef2f7; }}
</style></head><body>
<header>Markbook - 7A Mathematics</header><nav>Assessment | Attendance | Behaviour</nav>
<table><tr><th>Pupil</th><th>Reg</th><th>Autumn Test</th><th>Homework</th></tr>{rows}</table>
</body></html>"""
PROFILE = """<!doctype html><html><head><style>
body { font-family: 'DejaVu Sans', sans-serif; margin: 0; }
header { background: #1d4f91; color: white; padding: 12px 20px; font-size: 20px; }
dl { margin: 20px; font-size: 17px; } dt { font-weight: bold; margin-top: 10px; }
</style></head><body><header>Pupil Details</header><dl>
<dt>Name</dt><dd>Leo Fischer</dd><dt>Registration group</dt><dd>7A</dd>
<dt>SEN status</dt><dd>EHCP - Education, Health and Care Plan (autism)</dd></dl></body></html>"""


@pytest.fixture(scope="module")
def screenshots() -> dict[str, bytes]:
    """A markbook and a pupil profile of a fake MIS, as real Chromium draws them (PNG screenshots)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from tests.support.pictures import PUPILS

    rows = "".join(f"<tr><td>{last}, {first}</td><td>7A</td><td>{mark}</td><td>Done</td></tr>"
                   for (first, last), mark in zip(PUPILS, MARKS))
    shots = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 720, "height": 420})
        for name, html in (("markbook", MARKBOOK.format(rows=rows)), ("profile", PROFILE)):
            page.set_content(html)
            shots[name] = page.screenshot(type="png")
        browser.close()
    return shots


@pytest.mark.browser
def test_mis_markbook_screenshot_arrives_without_names(ocr_proxy, upstream, screenshots):
    original = screenshots["markbook"]
    assert len(names_found(read_text(original))) == 12
    openai_client(ocr_proxy).chat.completions.create(model="gpt-4o", messages=image_message(original))
    [received] = upstream.requests_to(CHAT)
    text = assert_redacted(original, sent_image(received), "PNG")
    assert "Markbook" in text and "Autumn Test" in text and "72%" in text


@pytest.mark.browser
def test_mis_screenshot_naming_a_pupil_with_an_ehcp_is_blocked(ocr_proxy, upstream, screenshots):
    with pytest.raises(openai.PermissionDeniedError) as refused:
        openai_client(ocr_proxy).chat.completions.create(
            model="gpt-4o", messages=image_message(screenshots["profile"], text="Write a support plan."))
    assert "pupilguard blocked this request" in str(refused.value)
    assert "special" in str(refused.value) and "Fischer" not in str(refused.value)
    assert upstream.requests_to(CHAT) == []


# ---------------------------------------------------------------------------------------------- a huge picture

@pytest.mark.slow
def test_a_20_mb_picture_never_holds_up_another_users_text_prompt(ocr_proxy, upstream):
    """Noise compresses badly: a 2,600 x 2,600 PNG of it is 20 MB. It is read within its budget or refused;
    meanwhile a text prompt from someone else goes through, answered before the picture's request ends."""
    import numpy as np

    noise = np.random.default_rng(7).integers(0, 256, (2600, 2600, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG", compress_level=1)
    big = buf.getvalue()
    assert len(big) >= 20 * 1000 * 1000
    outcome: dict[str, object] = {}

    def send_picture() -> None:
        try:
            openai_client(ocr_proxy).chat.completions.create(model="gpt-4o", messages=image_message(big))
            outcome["picture"] = "sent"
        except openai.PermissionDeniedError as exc:
            outcome["picture"] = str(exc)
        outcome["picture_done"] = time.monotonic()

    sender = threading.Thread(target=send_picture)
    sender.start()
    # wait until the proxy is reading the picture (its OCR process is busy), then a text prompt comes in
    deadline = time.monotonic() + 60
    while ocr_proxy.metric("pupilguard_ocr_running") < 1 and "picture_done" not in outcome:
        assert time.monotonic() < deadline, "the picture never reached OCR"
        time.sleep(0.05)
    text = openai_client(ocr_proxy).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Suggest a starter activity on fractions."}])
    text_done = time.monotonic()
    sender.join(120)
    assert text.choices[0].message.content
    assert outcome["picture"] == "sent" or "picture" in str(outcome["picture"])  # read in budget, or refused
    assert "picture_done" in outcome and text_done < outcome["picture_done"]
