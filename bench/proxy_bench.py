"""Latency the proxy adds, measured against going direct to the same upstream in the same run.

    .venv/bin/python bench/proxy_bench.py [--requests 200] [--workers N]

Starts the demo AI service (proxy/commands/demo_upstream.py) and a real `pupilguard proxy` routed to it, then:
1. 2 KB prompts, alternating direct and through the proxy: p50/p99 of each and the difference (added latency),
   for a clean prompt (scanned, forwarded untouched) and one with pupil data (scanned, redacted, read back).
2. short prompts through the proxy, alone and while 20,000-character prompts are continuously in flight, then
   while a spreadsheet (parsed and scanned by the proxy) is uploaded again and again, then while one other client
   sends 2 MB prompts full of names back to back (scanned, redacted, read back).
Targets (issues 3 and 15): <= 20 ms p50 and <= 80 ms p99 added for 2 KB prompts; short prompts' p99 no more than
50 ms worse under the long ones, and under the 2 MB ones, which must themselves be redacted, not refused.
`--only-huge` measures only short prompts alone and under the 2 MB prompts.
Times depend on the machine: read the ratios and differences, not absolutes.
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from proxy.commands.demo_upstream import write_self_signed  # noqa: E402

ALLOWLIST = """version: 1
profiles:
  staff: {subnets: [127.0.0.0/8]}
default_profile: staff
tools:
  openai-api: {staff: approved}
"""
PARAGRAPH = ("Our Year 10 geography class has been studying coastal erosion along the Holderness coast, comparing "
             "hard and soft engineering and the costs and benefits of managed retreat for local communities. ")
LONG_PARAGRAPH = ("The Year 9 class studied the causes of the First World War, compared primary sources and wrote "
                  "an extended essay on the alliance system and the July crisis. ")


def prompt_2k(i: int, pupil_data: bool) -> str:
    head = f"Lesson {i}: "
    if pupil_data:
        head += f"write a report comment for the pupil with UPN T801200115100, parent email parent{i}@example.com. "
    body = head + PARAGRAPH * 12
    return body[:2048]


def long_prompt(i: int) -> str:
    return (f"Essay batch {i}. " + LONG_PARAGRAPH * 140)[:20_000]


FORENAMES = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo", "Freya", "Oscar",
             "Rhys", "Seren", "Dylan", "Cerys", "Priya", "Mohammed", "Zainab", "Tomasz"]
SURNAMES = ["Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Thomas", "Roberts", "Khan", "Patel",
            "Nowak", "Okafor", "Hughes", "Price", "Morgan", "Walker", "Wright", "Green", "Hall", "Wood"]


def huge_prompt(i: int, size: int = 2 * 1024 * 1024) -> str:
    """About `size` characters of class notes, a pupil's (or parent's) full name in every sentence."""
    out, n = [f"Batch {i}. "], 0
    while sum(map(len, out)) < size:
        out.append(f"{FORENAMES[n % 20]} {SURNAMES[(n // 20 + i) % 20]} handed in the homework on time "
                   f"and asked about the next topic. ")
        n += 1
    return "".join(out)[:size]


def short_prompt(i: int) -> str:
    return f"Question {i}: suggest a starter activity on fractions for Year 5."


def spreadsheet(rows: int) -> bytes:
    """A class's homework record, no pupil data: read, scanned and forwarded unchanged."""
    import openpyxl

    wb = openpyxl.Workbook()
    for i in range(rows):
        wb.active.append([f"Group {i % 9 + 1}", i, "homework complete", 12.5])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client: httpx.Client, data: bytes) -> float:
    started = time.perf_counter()
    r = client.post("https://api.openai.com/v1/files", data={"purpose": "assistants"},
                    files={"file": ("homework.xlsx", data, "application/octet-stream")})
    if r.status_code != 200:
        raise SystemExit(f"unexpected HTTP {r.status_code} for the upload: {r.text[:200]}")
    return (time.perf_counter() - started) * 1000


def chat_body(text: str) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(check, what: str, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited during start-up ({process.returncode})")
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(client: httpx.Client, url: str, text: str) -> float:
    started = time.perf_counter()
    r = client.post(url, json=chat_body(text))
    elapsed = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        raise SystemExit(f"unexpected HTTP {r.status_code} from {url}: {r.text[:200]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per measured series")
    parser.add_argument("--workers", type=int, default=None, help="proxy --workers (default: one per CPU)")
    parser.add_argument("--long-in-flight", type=int, default=2, help="20,000-char prompts kept in flight")
    parser.add_argument("--upload-rows", type=int, default=3000, help="rows of the spreadsheet uploaded")
    parser.add_argument("--only-huge", action="store_true",
                        help="only short prompts alone and while one client sends 2 MB prompts")
    args = parser.parse_args()
    console = Console(width=130)
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="pupilguard-bench-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            return run(args, console, tmp, processes)
        finally:
            for p in processes:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in processes:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)


def run(args: argparse.Namespace, console: Console, tmp: Path, processes: list[subprocess.Popen]) -> int:
    cert, key = tmp / "upstream.pem", tmp / "upstream.key"
    write_self_signed(cert, key, ["api.openai.com", "localhost"])
    up_port, proxy_port, metrics_port = free_port(), free_port(), free_port()
    logs = open(tmp / "bench.log", "ab")
    upstream = subprocess.Popen([sys.executable, "-m", "proxy.commands.demo_upstream",
                                 "--listen", f"127.0.0.1:{up_port}",
                                 "--cert", str(cert), "--key", str(key)], cwd=REPO, stdout=logs, stderr=logs,
                                start_new_session=True)
    processes.append(upstream)
    wait(lambda: socket.create_connection(("127.0.0.1", up_port), timeout=1).close() is None, "upstream", upstream)
    (tmp / "allowlist.yaml").write_text(ALLOWLIST)
    command = [sys.executable, "-m", "detectors.cli", "proxy", "--listen", f"127.0.0.1:{proxy_port}",
               "--data-dir", str(tmp / "proxy"), "--allowlist", str(tmp / "allowlist.yaml"),
               "--route", f"api.openai.com=127.0.0.1:{up_port}", "--upstream-ca", str(cert),
               "--metrics-listen", f"127.0.0.1:{metrics_port}",
               "--proxyauth", "any"]  # any password: the user name tells the bench's clients apart
    if args.workers:
        command += ["--workers", str(args.workers)]
    console.print("Starting the proxy (loading the language model in each worker)…")
    proxy = subprocess.Popen(command, cwd=REPO, stdout=logs, stderr=logs, start_new_session=True)
    processes.append(proxy)
    wait(lambda: httpx.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=1).status_code == 200,
         "proxy", proxy)
    workers = httpx.get(f"http://127.0.0.1:{metrics_port}/healthz").json()["workers"]

    direct_url = f"https://localhost:{up_port}/v1/chat/completions"
    proxied_url = "https://api.openai.com/v1/chat/completions"
    trust_upstream = ssl.create_default_context(cafile=str(cert))
    trust_proxy = ssl.create_default_context(cafile=str(tmp / "proxy" / "pupilguard-ca.pem"))
    direct = httpx.Client(verify=trust_upstream, timeout=60)
    proxied = httpx.Client(proxy=f"http://teacher:x@127.0.0.1:{proxy_port}", verify=trust_proxy, timeout=60)

    for i in range(20):  # warm-up: connections, caches, each worker's first scan
        timed(direct, direct_url, prompt_2k(i, False))
        timed(proxied, proxied_url, prompt_2k(i, i % 2 == 0))

    def analysis_totals() -> tuple[float, float]:
        """(seconds, scans) of detection so far, from the proxy's own histogram."""
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        values = {line.split("{")[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("pupilguard_detection_seconds_sum") or
                  line.startswith("pupilguard_detection_seconds_count")}
        return values.get("pupilguard_detection_seconds_sum", 0.0), values.get("pupilguard_detection_seconds_count", 0)

    n = args.requests
    if args.only_huge:
        console.print(f"Measuring {n} short prompts alone, then while one client sends 2 MB prompts…")
        alone = [timed(proxied, proxied_url, short_prompt(i)) for i in range(n)]
        report_huge(console, alone, *under_huge(args, proxy_port, trust_proxy, proxied, proxied_url, n))
        return 0
    series: dict[str, list[float]] = {"direct": [], "clean": [], "pupil": []}
    analysis: dict[str, float] = {}
    console.print(f"Measuring {n} requests per series (2 KB prompts)…")
    for name, pupil_data in (("clean", False), ("pupil", True)):
        secs0, count0 = analysis_totals()
        for i in range(n):  # alternate with direct requests, so both see the same machine
            series["direct"].append(timed(direct, direct_url, prompt_2k(1000 + i, False)))
            series[name].append(timed(proxied, proxied_url, prompt_2k((5000 if pupil_data else 1000) + i,
                                                                      pupil_data)))
        secs1, count1 = analysis_totals()
        analysis[name] = (secs1 - secs0) * 1000 / n  # per request

    console.print(f"Measuring short prompts alone, then with {args.long_in_flight} 20,000-char prompts in flight…")
    alone = [timed(proxied, proxied_url, short_prompt(i)) for i in range(n)]

    def under(load: Callable[[httpx.Client, int], float], clients: int, offset: int) -> tuple[list[float], list[float]]:
        """Short prompts' latencies while `clients` other clients keep sending `load`; and the load's latencies."""
        stop = threading.Event()
        done: list[float] = []

        def keep_in_flight(k: int) -> None:
            with httpx.Client(proxy=f"http://load{k}:x@127.0.0.1:{proxy_port}", verify=trust_proxy,
                              timeout=120) as client:
                i = 0
                while not stop.is_set():
                    done.append(load(client, k * 100_000 + i))
                    i += 1

        threads = [threading.Thread(target=keep_in_flight, args=(k,), daemon=True) for k in range(clients)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        short = [timed(proxied, proxied_url, short_prompt(offset + i)) for i in range(n)]
        stop.set()
        for t in threads:
            t.join(120)
        return short, done

    loaded, long_done = under(lambda client, i: timed(client, proxied_url, long_prompt(i)), args.long_in_flight,
                              10_000)
    console.print("Measuring short prompts while a spreadsheet is being uploaded…")
    sheet = spreadsheet(args.upload_rows)
    uploading, uploads = under(lambda client, i: upload(client, sheet), 1, 20_000)

    base_p50, base_p99 = pct(series["direct"], 50), pct(series["direct"], 99)
    table = Table(title=f"pupilguard proxy: added latency, 2 KB prompts ({n} each; {workers} detection workers)")
    for col in ("path", "p50 ms", "p99 ms", "added p50", "added p99", "of which analysis", "target"):
        table.add_column(col, justify="right" if col != "path" else "left")
    table.add_row("direct to upstream", f"{base_p50:.1f}", f"{base_p99:.1f}", "-", "-", "-", "baseline")
    for name, label in (("clean", "via proxy, clean (scan, forward)"),
                        ("pupil", "via proxy, pupil data (scan, redact, read back)")):
        p50, p99 = pct(series[name], 50), pct(series[name], 99)
        ok = p50 - base_p50 <= 20 and p99 - base_p99 <= 80
        table.add_row(label, f"{p50:.1f}", f"{p99:.1f}", f"{p50 - base_p50:+.1f}", f"{p99 - base_p99:+.1f}",
                      f"{analysis[name]:.1f} mean", ("met" if ok else "MISSED") + " (<=20 / <=80)")
    console.print(table)

    load = short_table(f"short prompts via the proxy, alone vs {args.long_in_flight} x 20,000-char prompts in flight",
                       alone, "under long prompts", loaded)
    if long_done:
        load.add_row(f"(the long prompts: {len(long_done)})", f"{statistics.median(long_done):.1f}",
                     f"{pct(long_done, 99):.1f}", "-", "-")
    load.add_row(f"during {len(sheet) // 1024} KB spreadsheet uploads", f"{pct(uploading, 50):.1f}",
                 f"{pct(uploading, 99):.1f}", f"{pct(uploading, 99) - pct(alone, 99):+.1f}", "-")
    if uploads:
        load.add_row(f"(the uploads: {len(uploads)})", f"{statistics.median(uploads):.1f}", f"{pct(uploads, 99):.1f}",
                     "-", "-")
    console.print(load)
    report_huge(console, alone, *under_huge(args, proxy_port, trust_proxy, proxied, proxied_url, n))
    console.print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
                  "(other work on the machine inflates every proxied series more than the direct one)")
    return 0


def under_huge(args: argparse.Namespace, proxy_port: int, trust_proxy: ssl.SSLContext, proxied: httpx.Client,
               url: str, n: int) -> tuple[list[float], list[tuple[float, int]]]:
    """Short prompts' latencies while one other client sends 2 MB prompts back to back; and (ms, status) of those."""
    stop = threading.Event()
    huge: list[tuple[float, int]] = []
    refusals: list[str] = []
    bodies = [huge_prompt(i) for i in range(2)]

    def hog() -> None:
        with httpx.Client(proxy=f"http://hog:x@127.0.0.1:{proxy_port}", verify=trust_proxy, timeout=600) as client:
            i = 0
            while not stop.is_set():
                started = time.perf_counter()
                r = client.post(url, json=chat_body(bodies[i % 2]))
                huge.append(((time.perf_counter() - started) * 1000, r.status_code))
                if r.status_code != 200:  # the refusal's reason (never prompt text)
                    refusals.append(r.text[:300])
                i += 1

    thread = threading.Thread(target=hog, daemon=True)
    thread.start()
    time.sleep(2.0)  # the first 2 MB prompt is being decoded and scanned
    short = [timed(proxied, url, short_prompt(30_000 + i)) for i in range(n)]
    while not huge and thread.is_alive():  # at least one 2 MB prompt measured
        time.sleep(0.5)
    stop.set()
    thread.join(600)
    for reason in dict.fromkeys(refusals):
        print("2 MB prompt refused:", reason)
    return short, huge


def short_table(title: str, alone: list[float], label: str, loaded: list[float]) -> Table:
    """Short prompts alone and under a load, against the target: p99 no more than 50 ms worse."""
    table = Table(title=title)
    for col in ("series", "p50 ms", "p99 ms", "p99 worse by", "target"):
        table.add_column(col, justify="right" if col != "series" else "left")
    table.add_row("alone", f"{pct(alone, 50):.1f}", f"{pct(alone, 99):.1f}", "-", "baseline")
    worse = pct(loaded, 99) - pct(alone, 99)
    table.add_row(label, f"{pct(loaded, 50):.1f}", f"{pct(loaded, 99):.1f}", f"{worse:+.1f}",
                  ("met" if worse <= 50 else "MISSED") + " (<=50)")
    return table


def report_huge(console: Console, alone: list[float], short: list[float], huge: list[tuple[float, int]]) -> None:
    table = short_table("short prompts via the proxy, alone vs while one client sends 2 MB prompts full of names",
                        alone, "under 2 MB prompts", short)
    if huge:
        ok = sum(1 for _, status in huge if status == 200)
        table.add_row(f"(the 2 MB prompts: {len(huge)}, {ok} forwarded redacted)",
                      f"{statistics.median(ms for ms, _ in huge):.0f}", f"{max(ms for ms, _ in huge):.0f}", "-",
                      "all forwarded" if ok == len(huge) else "SOME REFUSED")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
