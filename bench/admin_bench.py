"""Admin service benchmark on PostgreSQL: ingest throughput and dashboard query time at 1,000,000 events.

    .venv/bin/python bench/admin_bench.py [--events 1000000] [--http-events 60000] [--clients 4]
                                          [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                          [--database sqlite]

The 1,000,000-event load takes several minutes on a small machine; `--events 100000` is a quick run.
`--database sqlite` measures the ingest only (into a throw-away SQLite file: no bulk load, no query timings).

Creates a throw-away database, runs the real admin service (uvicorn in a subprocess on loopback) and measures:
  - ingest through POST /api/v1/events with 500-event batches from several concurrent "proxies" (httpx), against
    a baseline measured in the same run: the same batches written straight to the store (`store_events`, no HTTP);
  - then bulk-loads synthetic events (COPY) up to --events stored, and times every dashboard statistics query and
    the first page of the event list (query functions on a warm connection, median of 5), plus the same pages
    end to end over HTTP.
Targets from the issue: >= 2,000 events/s ingest; every dashboard page and the incident list < 300 ms at 1,000,000
events (the bulk load makes every loaded event needing review an incident of its own: the worst case).
The database is dropped at the end (use --keep to keep it).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from admin_api import accounts, incidents, proxies, queries, rollups  # noqa: E402
from admin_api.db import Database, migrate  # noqa: E402
from admin_api.schemas import EventFilter, IngestEvent  # noqa: E402
from admin_api.models import User  # noqa: E402
from admin_api.severity import severity_of  # noqa: E402
from admin_api.store import store_events  # noqa: E402

TOOLS = ["chatgpt", "gemini", "copilot", "claude", "openai-api", "perplexity", "mistral", "deepseek",
         "grammarly", "canva-ai", "meta-ai", "poe"]
PROFILES = ["staff", "staff", "staff", "pupil", "sixth-form"]
DEPARTMENTS = ["Science", "English", "Maths", "History", "Geography", "SEN", "Pastoral", "Languages", "Art",
               "Music", "PE", "Computing", "Office", "Leadership", None]
ENTITY_SETS = [{"PUPIL": 1}, {"PUPIL": 2, "UK_UPN": 1}, {"PERSON": 1}, {"EMAIL_ADDRESS": 1, "PUPIL": 1},
               {"DATE_OF_BIRTH": 1, "PUPIL": 1}, {"UK_POSTCODE": 1}, {"PHONE_NUMBER": 1}]
BLOCK_SETS = [{"PUPIL": 1, "SPECIAL_CATEGORY:SEN": 1}, {"PUPIL": 1, "SPECIAL_CATEGORY:HEALTH": 2},
              {"UK_UPN": 1, "SPECIAL_CATEGORY:SAFEGUARDING": 1}, {"PUPIL": 2, "SPECIAL_CATEGORY:LOOKED_AFTER": 1}]
DAYS = 180
PASSWORD = "bench password 1234"


def synthetic_event(rng: random.Random, now: datetime) -> dict:
    r = rng.random()
    action = "allow" if r < 0.7 else "redact" if r < 0.9 else "block"
    entities = {} if action == "allow" else rng.choice(ENTITY_SETS if action == "redact" else BLOCK_SETS)
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "time": (now - timedelta(seconds=rng.random() * DAYS * 86400)).isoformat(),
        "proxy_id": f"site-{rng.randrange(8)}",
        "client_addr": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        "user": f"staff{rng.randrange(2000):04d}" if rng.random() < 0.8 else None,
        "profile": rng.choice(PROFILES),
        "department": rng.choice(DEPARTMENTS),
        "tool": rng.choice(TOOLS),
        "host": "chatgpt.com",
        "path": "/backend-api/conversation",
        "action": action,
        "reasons": [] if action == "allow" else ["identifier_redacted"] if action == "redact"
        else ["special_category_with_identifier"],
        "entities": entities,
        "excerpt": "" if action == "allow" else "Please write a report on [PUPIL_1] for parents' evening " * 3,
        "pupil_refs": [f"P-{rng.randrange(50_000):08d}"] if entities.get("PUPIL") or entities.get("UK_UPN") else [],
        "analysis_ms": round(rng.uniform(2, 80), 2),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def throwaway_database(server_url: str, keep: bool):  # type: ignore[no-untyped-def]
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"pupilguard_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def admin_server(db_url: str, data_dir: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "PUPILGUARD_DATABASE_URL": db_url, "PUPILGUARD_DATA_DIR": str(data_dir),
           "PUPILGUARD_COOKIE_SECURE": "0", "PUPILGUARD_PURGE_INTERVAL_SECONDS": "86400",
           "PUPILGUARD_RETENTION_DAYS": "3650"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "admin_api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("admin server did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def http_ingest(base: str, token: str, batches: list[list[dict]], clients: int) -> tuple[float, int]:
    """Send all batches with `clients` concurrent senders; returns (seconds, events accepted)."""
    queue = list(batches)
    lock = threading.Lock()
    accepted = [0]
    errors: list[str] = []

    def sender() -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    batch = queue.pop()
                r = client.post("/api/v1/events", json={"events": batch})
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                with lock:
                    accepted[0] += r.json()["accepted"]

    threads = [threading.Thread(target=sender) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"ingest failed: {errors[0]}")
    return elapsed, accepted[0]


def direct_ingest(db: Database, batches: list[list[dict]]) -> tuple[float, int]:
    """Baseline: validate and store the same batches without HTTP, one after another."""
    started = time.perf_counter()
    n = 0
    for batch in batches:
        events = [IngestEvent.model_validate(e) for e in batch]
        with db.session() as s:
            n += store_events(s, events)
            s.commit()
    return time.perf_counter() - started, n


def _copy_value(v: object) -> str:
    if v is None:
        return "\\N"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def bulk_load(db_url: str, total: int, rng: random.Random, now: datetime, console: Console) -> float:
    """COPY synthetic events (with their data-type and pupil rows) until `total` are stored."""
    import json

    import psycopg

    conninfo = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        have = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        remaining = total - have
        chunk = 100_000
        received = now.isoformat()
        while remaining > 0:
            n = min(chunk, remaining)
            ev, en, pu = io.StringIO(), io.StringIO(), io.StringIO()
            for _ in range(n):
                e = synthetic_event(rng, now)
                ev.write("\t".join(_copy_value(x) for x in (
                    e["event_id"], e["time"], received, e["proxy_id"], e["client_addr"], e["user"], e["profile"],
                    e["department"], e["tool"], e["host"], e["path"], e["action"], json.dumps(e["reasons"]),
                    e["excerpt"], e["analysis_ms"], severity_of(e["action"], e["reasons"], e["entities"]))) + "\n")
                for k, c in e["entities"].items():
                    en.write(f"{e['event_id']}\t{k}\t{c}\n")
                for ref in e["pupil_refs"]:
                    pu.write(f"{e['event_id']}\t{ref}\n")
            with conn.cursor() as cur:
                for table, cols, buf in (
                    ("events", "event_id, time, received_at, proxy_id, client_addr, \"user\", profile, department, "
                               "tool, host, path, action, reasons, excerpt, analysis_ms, severity", ev),
                    ("event_entities", "event_id, entity, count", en),
                    ("event_pupils", "event_id, pupil_ref", pu),
                ):
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        copy.write(buf.getvalue())
            conn.commit()
            remaining -= n
            console.print(f"  bulk-loaded {total - remaining:,} / {total:,} events")
    with psycopg.connect(conninfo) as conn:
        # the worst case for the incident list: every loaded event that needs review is an incident of its own
        conn.execute("INSERT INTO incidents (subject, \"user\", department, first_event_at, last_event_at, events, "
                     "severity, status, updated_at) SELECT coalesce(\"user\", 'addr:' || client_addr), \"user\", "
                     "department, time, time, 1, severity, 'new', now() FROM events "
                     "WHERE severity > 0 AND incident_id IS NULL")
    # the dashboard's daily roll-ups, recomputed from what was loaded (ingest keeps them up to date itself)
    db = Database(db_url)
    with db.session() as session:
        rollups.rebuild(session)
        session.commit()
    db.dispose()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table in ("events", "event_entities", "event_pupils", "daily_counts", "daily_entity_counts", "incidents"):
            conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


def web_login(client: httpx.Client) -> bool:
    """Sign in through the web UI's login form (session cookie), as the DPO's browser does."""
    import re

    page = client.get("/login")
    match = re.search(r'name="csrf_token"\s+value="([^"]+)"', page.text) or \
        re.search(r'value="([^"]+)"\s+name="csrf_token"', page.text)
    if not match:
        return False
    r = client.post("/login", data={"username": "bench-dpo", "password": PASSWORD, "csrf_token": match.group(1)})
    return r.status_code in (200, 303) and bool(client.cookies)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def time_it(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def measure_queries(db: Database, db_url: str, base: str, args: argparse.Namespace, rng: random.Random,
                    now: datetime, console: Console) -> tuple[int, float, list, list, float]:
    """Bulk-load to --events stored, then time the dashboard and list queries (functions, and pages over HTTP)."""
    console.print(f"bulk-loading to {args.events:,} stored events …")
    load_s = bulk_load(db_url, args.events, rng, now, console)

    with db.session() as s:
        stored = queries.count_events(s, EventFilter())
    month = now - timedelta(days=30)
    week = now - timedelta(days=7)
    filters = {
        "all time": EventFilter(),
        "last 30 days": EventFilter(start=month),
        "last 7 days": EventFilter(start=week),
        "30 days, action=block": EventFilter(start=month, action="block"),
        "30 days, tool=chatgpt": EventFilter(start=month, tool="chatgpt"),
        "30 days, profile=pupil": EventFilter(start=month, profile="pupil"),
        "30 days, entity=SEN": EventFilter(start=month, entity="SPECIAL_CATEGORY:SEN"),
        "30 days, department=SEN": EventFilter(start=month, department="SEN"),
        "30 days, severity=safeguarding": EventFilter(start=month, severity=5),
        "all time, tool=chatgpt": EventFilter(tool="chatgpt"),
        "all time, profile=staff": EventFilter(profile="staff"),
        "all time, department=Science": EventFilter(department="Science"),
        "all time, entity=PUPIL": EventFilter(entity="PUPIL"),
        "all time, severity=identifiers": EventFilter(severity=3),
        "all time, tool=chatgpt, profile=pupil": EventFilter(tool="chatgpt", profile="pupil"),
        "user=staff0042": EventFilter(user="staff0042"),
        "30 days, proxy_id=site-3": EventFilter(start=month, proxy_id="site-3"),
    }
    rows: list[tuple[str, str, float]] = []
    with db.session() as s:
        for label, flt in filters.items():
            rows.append(("stats (dashboard)", label, time_it(lambda f=flt: queries.stats(s, f))))
        for label, flt in filters.items():
            rows.append(("event list, first page", label,
                         time_it(lambda f=flt: queries.list_events(s, f, limit=50))))
        rows.append(("event list, first page", "pupil_ref=P-00000042",
                     time_it(lambda: queries.list_events(s, EventFilter(pupil_ref="P-00000042")))))
        rows.append(("event count", "last 30 days", time_it(lambda: queries.count_events(
            s, EventFilter(start=month)))))
        dpo, dsl = User(username="bench-dpo", role="dpo"), User(username="bench-dsl", role="dsl")
        for who in (dpo, dsl):
            rows.append(("incident list, first page", f"open, {who.role}", time_it(
                lambda u=who: incidents.list_incidents(s, u, incidents.IncidentFilter()))))
            rows.append(("needs review counts", f"open, {who.role}",
                         time_it(lambda u=who: incidents.open_counts(s, u))))

    http_rows: list[tuple[str, str, float]] = []
    pages = [
        ("GET / (web dashboard)", "/", {}),
        ("GET /events (web event list)", "/events", {}),
        ("GET /incidents (web incident list)", "/incidents", {}),
        ("GET /events?action=block (web)", "/events", {"action": "block"}),
        ("GET /api/v1/stats (last 30 days)", "/api/v1/stats", {"start": month.isoformat()}),
        ("GET /api/v1/stats (all time)", "/api/v1/stats", {}),
        ("GET /api/v1/events (first page)", "/api/v1/events", {}),
        ("GET /api/v1/events?action=block", "/api/v1/events", {"action": "block"}),
        ("GET /api/v1/incidents (first page)", "/api/v1/incidents", {}),
        ("GET /api/v1/incidents?severity=safeguarding", "/api/v1/incidents", {"severity": "safeguarding"}),
    ]
    with httpx.Client(base_url=base, timeout=60) as client:
        signed_in = web_login(client)
        for label, path, params in pages:
            if not signed_in and not path.startswith("/api/"):
                continue

            def fetch(p: str = path, q: dict = params) -> None:
                r = client.get(p, params=q, auth=None if signed_in else ("bench-dpo", PASSWORD))
                r.raise_for_status()
            http_rows.append((label, "session cookie" if signed_in else "HTTP Basic", time_it(fetch)))
        floor_ms = time_it(lambda: client.get("/healthz"))
    with httpx.Client(base_url=base, timeout=60, auth=("bench-dpo", PASSWORD)) as client:
        http_rows.append(("GET /api/v1/events (first page)", "HTTP Basic (a SIEM script)",
                          time_it(lambda: client.get("/api/v1/events").raise_for_status())))
    return stored, load_s, rows, http_rows, floor_ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=1_000_000, help="events stored for the query timings")
    ap.add_argument("--http-events", type=int, default=60_000, help="events sent through the HTTP endpoint")
    ap.add_argument("--clients", type=int, default=4, help="concurrent proxies sending batches")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                    help="PostgreSQL server (maintenance database URL)")
    ap.add_argument("--keep", action="store_true", help="keep the throw-away database")
    ap.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql",
                    help="sqlite: the ingest measures only, into a throw-away SQLite file")
    args = ap.parse_args()
    postgres = args.database == "postgresql"
    console = Console(width=150)
    rng = random.Random(4)
    now = datetime.now(UTC)

    with tempfile.TemporaryDirectory() as tmp, (
            throwaway_database(args.pg, args.keep) if postgres else
            contextlib.nullcontext(f"sqlite:///{tmp}/bench.sqlite3")) as db_url:
        console.print(f"database: {make_url(db_url).database}; {load_average()}")
        db = Database(db_url)
        migrate(db.engine)
        with db.session() as s:
            _, token = proxies.create_token(s, "bench")
            accounts.create_user(s, "bench-dpo", PASSWORD, "dpo")
            s.commit()

        batch_size = 500
        n_batches = max(1, args.http_events // batch_size)
        http_batches = [[synthetic_event(rng, now) for _ in range(batch_size)] for _ in range(n_batches)]
        base_batches = [[synthetic_event(rng, now) for _ in range(batch_size)] for _ in range(max(4, n_batches // 4))]

        console.print(f"baseline: {len(base_batches) * batch_size:,} events straight into the store …")
        base_s, base_n = direct_ingest(db, base_batches)
        with admin_server(db_url, Path(tmp)) as base:
            console.print(f"HTTP ingest: {n_batches * batch_size:,} events, {args.clients} concurrent proxies …")
            http_s, http_n = http_ingest(base, token, http_batches, args.clients)
            console.print(f"HTTP re-delivery of the same batches (all duplicates) …")
            dup_s, dup_n = http_ingest(base, token, http_batches[: max(1, n_batches // 4)], args.clients)
            assert dup_n == 0, "re-delivered events were stored twice"

            if postgres:  # COPY bulk load; the query targets are PostgreSQL's
                stored, load_s, rows, http_rows, floor_ms = measure_queries(db, db_url, base, args, rng, now,
                                                                            console)
        db.dispose()

    console.print(f"after the run: {load_average()} (the ratios against the baseline allow for a busy machine)")
    http_rate = http_n / http_s
    base_rate = base_n / base_s
    table = Table(title=f"Ingest ({'PostgreSQL' if postgres else 'SQLite'}, 500-event batches)")
    for col in ("measure", "events", "seconds", "events/s", "vs baseline", "target", "ok"):
        table.add_column(col, justify="right" if col not in ("measure", "ok") else "left")
    table.add_row("baseline: store_events, no HTTP, 1 writer", f"{base_n:,}", f"{base_s:.1f}", f"{base_rate:,.0f}",
                  "1.00", "", "")
    table.add_row(f"POST /api/v1/events, {args.clients} proxies", f"{http_n:,}", f"{http_s:.1f}",
                  f"{http_rate:,.0f}", f"{http_rate / base_rate:.2f}", ">= 2,000",
                  "yes" if http_rate >= 2000 else "NO")
    dup_events = len(http_batches[: max(1, n_batches // 4)]) * batch_size
    table.add_row("re-delivery (all duplicates)", f"{dup_events:,}", f"{dup_s:.1f}", f"{dup_events / dup_s:,.0f}",
                  f"{dup_events / dup_s / base_rate:.2f}", "", "")
    if not postgres:
        console.print(table)
        return 0
    table.add_row("bulk load (COPY) to total", f"{stored:,}", f"{load_s:.0f}", "", "", "", "")
    console.print(table)

    qt = Table(title=f"Queries at {stored:,} stored events (median of 5, ms)")
    for col in ("query", "filter", "ms", "target", "ok"):
        qt.add_column(col, justify="right" if col == "ms" else "left")
    for what, label, ms in rows:
        qt.add_row(what, label, f"{ms:.1f}", "< 300", "yes" if ms < 300 else "NO")
    for label, how, ms in http_rows:
        qt.add_row(label, f"HTTP end to end, {how}", f"{ms:.1f}", "< 300", "yes" if ms < 300 else "NO")
    qt.add_row("GET /healthz", "HTTP round trip floor", f"{floor_ms:.1f}", "", "")
    console.print(qt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
