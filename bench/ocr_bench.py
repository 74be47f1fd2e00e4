"""OCR: how long pictures take to read, and what reading them costs everyone else's text prompts.

    .venv/bin/python bench/ocr_bench.py [--requests 150] [--repeat 3]

1. OCR latency, measured the way an OCR worker runs it (one Tesseract thread, English + Welsh): a 1920 x 1080
   screenshot of a markbook (drawn with Pillow, 40 rows of names and marks) read, then redrawn with every name
   filled; a 3-page scan (image-only PDF, A4 at 150 dpi) read page by page.
2. Through a real `pupilguard proxy` (demo upstream, one OCR worker): short text prompts' p50/p99 alone, then while
   another client sends 1920 x 1080 screenshots back to back (each slightly different, so none is a cache hit).
   Target (issue 12): OCR never slows text prompts - their p99 under OCR within 50 ms of alone.
Times depend on the machine: read the ratios and differences, not absolutes.
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.proxy_bench import ALLOWLIST, free_port, pct, short_prompt, timed, wait  # noqa: E402
from proxy.commands.demo_upstream import write_self_signed  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FORENAMES = ["Amelia", "Oliver", "Isla", "George", "Seren", "Rhys", "Priya", "Tomasz"]
SURNAMES = ["Okafor", "Hughes", "Price", "Morgan", "Patel", "Nowak", "Llewelyn", "Evans"]


def screenshot(nonce: int = 0) -> bytes:
    """A 1920 x 1080 markbook page: a title bar, a menu, 40 rows of pupil, group and four marks."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGB", (1920, 1080), (243, 245, 248))
    draw = ImageDraw.Draw(im)
    title, body = ImageFont.truetype(FONT, 22), ImageFont.truetype(FONT, 15)
    draw.rectangle((0, 0, 1920, 48), fill=(29, 79, 145))
    draw.text((20, 12), f"Markbook - 10B English (view {nonce})", font=title, fill="white")
    draw.text((20, 58), "Assessment   Attendance   Behaviour   Reports", font=body, fill=(40, 40, 40))
    for i in range(40):
        y = 90 + i * 24
        name = f"{SURNAMES[i % 8]}, {FORENAMES[(i // 8 + i) % 8]}"
        draw.text((20, y), name, font=body, fill="black")
        for j in range(4):
            draw.text((420 + j * 160, y), f"{(i * 7 + j * 13) % 60 + 40}%", font=body, fill="black")
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def scan(pages: int = 3) -> bytes:
    """An image-only PDF: A4 pages at 150 dpi, each a typed class register."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 28)
    images = []
    for p in range(pages):
        im = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(im)
        draw.text((100, 100), f"Class register, page {p + 1}", font=font, fill=0)
        for i in range(30):
            draw.text((100, 180 + i * 48), f"{FORENAMES[(i + p) % 8]} {SURNAMES[i % 8]}   present", font=font,
                      fill=0)
        images.append(im)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def ocr_latency(console: Console, repeat: int) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from proxy.adapters.images import changed_words
    from proxy.ocr import OcrSpec, read_pdf, read_picture, render_picture

    spec = OcrSpec()
    shot, pdf = screenshot(), scan()
    reads, renders, scans = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        reading = read_picture(shot, spec, time.monotonic() + 120)
        reads.append(time.perf_counter() - started)
        text = reading.texts[0]
        new = text
        for name in FORENAMES + SURNAMES:
            new = new.replace(name, "[PUPIL_1]")
        boxes = [(w.frame, w.box) for w in changed_words(reading, new)]
        started = time.perf_counter()
        render_picture(shot, boxes, spec)
        renders.append(time.perf_counter() - started)
        started = time.perf_counter()
        read_pdf(pdf, spec, time.monotonic() + 300)
        scans.append(time.perf_counter() - started)
    table = Table(title=f"OCR latency (median of {repeat}, one Tesseract thread, eng+cym)", title_justify="left")
    for col in ("input", "step", "median", "per page"):
        table.add_column(col, justify="left" if col in ("input", "step") else "right")
    table.add_row("1920x1080 screenshot", "read (OCR, word boxes)", f"{statistics.median(reads) * 1000:.0f} ms", "")
    table.add_row("1920x1080 screenshot", f"redraw ({len(boxes)} boxes filled)",
                  f"{statistics.median(renders) * 1000:.0f} ms", "")
    table.add_row("3-page scan (PDF)", "draw pages + read", f"{statistics.median(scans) * 1000:.0f} ms",
                  f"{statistics.median(scans) / 3 * 1000:.0f} ms")
    console.print(table)


def image_body(data: bytes) -> dict:
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Which groups need support?"}, {"type": "image_url", "image_url": {"url": url}}]}]}


def under_ocr(console: Console, tmp: Path, processes: list[subprocess.Popen], requests: int) -> None:
    cert, key = tmp / "upstream.pem", tmp / "upstream.key"
    write_self_signed(cert, key, ["api.openai.com", "localhost"])
    up_port, proxy_port, metrics_port = free_port(), free_port(), free_port()
    logs = open(tmp / "bench.log", "ab")
    upstream = subprocess.Popen([sys.executable, "-m", "proxy.commands.demo_upstream",
                                 "--listen", f"127.0.0.1:{up_port}",
                                 "--cert", str(cert), "--key", str(key)], cwd=REPO, stdout=logs, stderr=logs,
                                start_new_session=True)
    processes.append(upstream)
    import socket

    wait(lambda: socket.create_connection(("127.0.0.1", up_port), timeout=1).close() is None, "upstream", upstream)
    (tmp / "allowlist.yaml").write_text(ALLOWLIST)
    command = [sys.executable, "-m", "detectors.cli", "proxy", "--listen", f"127.0.0.1:{proxy_port}",
               "--data-dir", str(tmp / "proxy"), "--allowlist", str(tmp / "allowlist.yaml"),
               "--route", f"api.openai.com=127.0.0.1:{up_port}", "--upstream-ca", str(cert),
               "--metrics-listen", f"127.0.0.1:{metrics_port}", "--proxyauth", "any", "--ocr-workers", "1"]
    console.print("Starting the proxy (loading the language model in each worker)…")
    proxy = subprocess.Popen(command, cwd=REPO, stdout=logs, stderr=logs, start_new_session=True)
    processes.append(proxy)
    wait(lambda: httpx.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=1).status_code == 200,
         "proxy", proxy)
    trust = ssl.create_default_context(cafile=str(tmp / "proxy" / "pupilguard-ca.pem"))
    url = "https://api.openai.com/v1/chat/completions"

    def client(user: str) -> httpx.Client:
        return httpx.Client(proxy=f"http://{user}:x@127.0.0.1:{proxy_port}", verify=trust, timeout=120)

    with client("teacher") as c:
        for i in range(5):  # warm up
            timed(c, url, short_prompt(i))
        alone = [timed(c, url, short_prompt(i)) for i in range(requests)]

    stop = threading.Event()
    shots: list[float] = []
    codes: list[int] = []

    def send_screenshots() -> None:
        with client("other") as other:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.perf_counter()
                r = other.post(url, json=image_body(screenshot(n)))
                shots.append((time.perf_counter() - started) * 1000)
                codes.append(r.status_code)

    sender = threading.Thread(target=send_screenshots, daemon=True)
    sender.start()
    time.sleep(1.0)
    with client("teacher") as c:
        under = [timed(c, url, short_prompt(i)) for i in range(requests)]
    stop.set()
    sender.join(180)

    table = Table(title=f"Short text prompts through the proxy ({requests} each)", title_justify="left")
    for col in ("series", "p50", "p99", "p99 ratio", "p99 added"):
        table.add_column(col, justify="left" if col == "series" else "right")
    p99_alone = pct(alone, 99)
    table.add_row("alone", f"{pct(alone, 50):.1f} ms", f"{p99_alone:.1f} ms", "1.00", "")
    table.add_row("while 1920x1080 screenshots are read", f"{pct(under, 50):.1f} ms", f"{pct(under, 99):.1f} ms",
                  f"{pct(under, 99) / p99_alone:.2f}", f"{pct(under, 99) - p99_alone:+.1f} ms")
    console.print(table)
    redacted = sum(1 for code in codes if code == 200)
    console.print(f"Screenshots sent meanwhile: {len(shots)} ({redacted} answered 200, redacted), "
                  f"p50 {pct(shots, 50):.0f} ms through the proxy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=150, help="text prompts per measured series")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each OCR measurement")
    args = parser.parse_args()
    console = Console(width=130)
    ocr_latency(console, args.repeat)
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="pupilguard-ocr-bench-") as tmp:
        try:
            under_ocr(console, Path(tmp), processes, args.requests)
        finally:
            for p in processes:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in processes:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
