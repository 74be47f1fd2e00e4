"""Shared fixtures for the proxy tests: real `pupilguard proxy` processes, a local HTTPS fake AI upstream with its
own test CA, and a tiny fake admin ingest endpoint. Everything listens on 127.0.0.1, on ports chosen at run time.

* `test_ca` - a CA made with `cryptography`, and a server certificate for every catalogued AI host + localhost.
* `fake_upstream` - HTTPS (and WebSocket) server on 127.0.0.1 presenting that certificate, recording every request;
  answers like OpenAI / Anthropic / Gemini by default; `fake_upstream.handle(path, fn)` overrides a path.
* `start_proxy(...)` - starts `pupilguard proxy` with --route for every catalogued host to the fake upstream and
  --upstream-ca test CA; returns a `ProxyProcess` (stopped at the end of the test session/module).
* `proxy` - one shared proxy for the session (staff profile for 127.0.0.1) with the default options.
* `FakeAdmin` - records POST /api/v1/events; can be made to fail.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.support.net import free_port

REPO = Path(__file__).resolve().parents[2]
PROXY_START_TIMEOUT = 240

# Clients on 127.0.0.1 are staff; a user named "pupil1" (via --proxyauth) is a pupil.
STAFF_ALLOWLIST = """\
version: 1
policy_url: https://school.example/ai-policy
profiles:
  staff: {subnets: [127.0.0.0/8]}
  pupil: {subnets: [10.1.0.0/16], users: [pupil1], groups: [pupils]}
default_profile: pupil
default_status: blocked
tools:
  openai-api:    {staff: approved, pupil: blocked, restore_placeholders: false}
  anthropic-api: {staff: approved, pupil: blocked, restore_placeholders: true}
  gemini-api:    {staff: approved, pupil: approved}
  chatgpt:       {staff: approved, pupil: blocked}
  copilot:       {staff: approved, pupil: blocked}
  claude:        {staff: monitor,  pupil: blocked}
"""


# ---------------------------------------------------------------------------------------------- certificates

# vendors' sign-in hosts (not catalogued) that the tenant restriction tests route to the fake upstream

SIGN_IN_HOSTS = ["login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "login.live.com",
                 "accounts.google.com", "www.google.com"]

@dataclass
class TestCA:
    dir: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _catalogue_hosts() -> list[str]:
    import yaml

    data = yaml.safe_load((REPO / "proxy" / "catalogue.yaml").read_text())
    services = data.get("services", data) if isinstance(data, dict) else data
    hosts: list[str] = []
    for svc in services:
        for host in svc.get("hosts", []):
            if "*" not in host and not any(c in host for c in "^$\\[("):
                hosts.append(host)
    return hosts


def make_test_ca(directory: Path, hosts: list[str]) -> TestCA:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pupilguard tests upstream CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in sorted(set(hosts) | {"localhost"})]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake upstream")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = TestCA(directory, directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.server_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return make_test_ca(tmp_path_factory.mktemp("test-ca"), _catalogue_hosts() + SIGN_IN_HOSTS)


# ---------------------------------------------------------------------------------------------- servers

def ssl_context(cafile: Path | str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile))


class ThreadedServer:
    """An ASGI app served by uvicorn in a background thread on 127.0.0.1 (optionally HTTPS)."""

    def __init__(self, app: Any, *, port: int = 0, certfile: Path | None = None, keyfile: Path | None = None):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio",
                                ssl_certfile=str(certfile) if certfile else None,
                                ssl_keyfile=str(keyfile) if keyfile else None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@dataclass
class Received:
    method: str
    host: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _last_user_text(doc: Any) -> str:
    try:
        content = doc["messages"][-1]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def default_reply(req: Received) -> Response:
    """Minimal valid replies for the official APIs, echoing the prompt (so restore can be seen)."""
    try:
        doc = req.json()
    except ValueError:
        doc = {}
    if req.path.endswith("/chat/completions"):
        return JSONResponse({
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": doc.get("model", "gpt-test"),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": "Echo: " + _last_user_text(doc),
                                     "refusal": None}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
    if req.path.startswith("/v1/messages"):
        return JSONResponse({
            "id": "msg_test", "type": "message", "role": "assistant", "model": doc.get("model", "claude-test"),
            "content": [{"type": "text", "text": "Echo: " + _last_user_text(doc)}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1}})
    if ":generateContent" in req.path:
        return JSONResponse({"candidates": [{"content": {"role": "model", "parts": [{"text": "Echo"}]},
                                             "finishReason": "STOP", "index": 0}]})
    return JSONResponse({"ok": True})


class FakeUpstream:
    """Plays every catalogued AI service at once (the proxy routes them all here); records what arrives."""

    def __init__(self, ca: TestCA) -> None:
        self.received: list[Received] = []
        self.ws_received: list[tuple[str, str | bytes]] = []  # (path, frame)
        self.handlers: dict[str, Callable[[Received], Response]] = {}
        self._lock = threading.Lock()
        app = Starlette(routes=[
            WebSocketRoute("/{path:path}", self._ws),
            Route("/{path:path}", self._http, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
        ])
        self.server = ThreadedServer(app, certfile=ca.server_cert, keyfile=ca.server_key)
        self.port = self.server.port
        self.address = f"127.0.0.1:{self.port}"

    async def _http(self, request: Request) -> Response:
        rec = Received(request.method, request.headers.get("host", ""), request.url.path,
                       {k.lower(): v for k, v in request.headers.items()}, await request.body(), request.url.query)
        with self._lock:
            self.received.append(rec)
        handler = self.handlers.get(rec.path, default_reply)
        result = handler(rec)
        return await result if asyncio.iscoroutine(result) else result

    async def _ws(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                frame = message.get("text") if message.get("text") is not None else message.get("bytes")
                with self._lock:
                    self.ws_received.append((ws.url.path, frame))
                await ws.send_text(json.dumps({"event": "received", "n": len(self.ws_received)}))
        except WebSocketDisconnect:
            return

    def handle(self, path: str, fn: Callable[[Received], Response]) -> None:
        self.handlers[path] = fn

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.ws_received.clear()
        self.handlers.clear()


@pytest.fixture(scope="session")
def fake_upstream(test_ca: TestCA) -> Iterator[FakeUpstream]:
    upstream = FakeUpstream(test_ca)
    upstream.server.start()
    yield upstream
    upstream.server.stop()


@pytest.fixture
def upstream(fake_upstream: FakeUpstream) -> Iterator[FakeUpstream]:
    """The shared fake upstream, emptied before each test."""
    fake_upstream.clear()
    yield fake_upstream
    fake_upstream.clear()


class FakeAdmin:
    """POST /api/v1/events as the admin API specifies it: bearer token, EventBatch, idempotent on event_id.

    `fail_next` makes the next N posts fail with 503 *after* storing (a lost reply), to prove retries are
    duplicate-safe."""

    def __init__(self, token: str = "test-token", port: int = 0) -> None:
        from detectors.events import EventBatch

        self.token = token
        self.stored: dict[str, dict] = {}
        self.posts = 0
        self.duplicates = 0
        self.fail_next = 0
        self._lock = threading.Lock()

        async def events(request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return JSONResponse({"detail": "bad token"}, status_code=401)
            try:
                batch = EventBatch.model_validate_json(await request.body())
            except ValueError as exc:
                return JSONResponse({"detail": str(exc)[:200]}, status_code=422)
            with self._lock:
                self.posts += 1
                accepted = dups = 0
                for event in batch.events:
                    key = str(event.event_id)
                    if key in self.stored:
                        dups += 1
                    else:
                        self.stored[key] = json.loads(event.model_dump_json())
                        accepted += 1
                self.duplicates += dups
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return JSONResponse({"detail": "lost reply"}, status_code=503)
            return JSONResponse({"accepted": accepted, "duplicates": dups})

        self.server = ThreadedServer(Starlette(routes=[Route("/api/v1/events", events, methods=["POST"])]),
                                     port=port)
        self.port = self.server.port
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeAdmin:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


# ---------------------------------------------------------------------------------------------- the proxy

@dataclass
class ProxyProcess:
    data_dir: Path
    args: list[str]
    port: int
    metrics_port: int
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca(self) -> Path:
        return self.data_dir / "pupilguard-ca.pem"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def start(self) -> ProxyProcess:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "detectors.cli", "proxy", *self.args],
                                        stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=self.env,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + PROXY_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pupilguard proxy exited ({self.process.returncode}):\n{self.logs()[-3000:]}")
            try:
                if httpx.get(f"{self.metrics_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"pupilguard proxy did not become healthy:\n{self.logs()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, *, user: str | None = None, verify: Path | str | bool | None = None,
               **kwargs: Any) -> httpx.Client:
        """An httpx client using this proxy and trusting its CA (or `verify`)."""
        proxy = self.url if user is None else f"http://{user}:pw@127.0.0.1:{self.port}"
        trust = verify if verify is not None else self.ca
        return httpx.Client(proxy=proxy, verify=trust if isinstance(trust, bool) else ssl_context(trust), timeout=30,
                            **kwargs)

    @property
    def ssl(self) -> ssl.SSLContext:
        """A client TLS context trusting this proxy's CA."""
        return ssl_context(self.ca)

    def metric(self, name: str, **labels: str) -> float:
        """The value of one sample on /metrics (0 if absent)."""
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(f"{self.metrics_url}/metrics", timeout=5).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total


ProxyFactory = Callable[..., ProxyProcess]


@pytest.fixture(scope="session")
def start_proxy(tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA,
                fake_upstream: FakeUpstream) -> Iterator[ProxyFactory]:
    """start_proxy(allowlist=TEXT, extra_args=[...], data_dir=None, workers=2) -> a running ProxyProcess.

    Every catalogued host is routed to the fake upstream. Processes still running at the end are stopped."""
    started: list[ProxyProcess] = []

    def start(allowlist: str = STAFF_ALLOWLIST, extra_args: list[str] | None = None, data_dir: Path | None = None,
              workers: int = 2, env: dict[str, str] | None = None) -> ProxyProcess:
        data_dir = data_dir or tmp_path_factory.mktemp("proxy-data")
        allowlist_path = data_dir / "allowlist.yaml"
        if not allowlist_path.exists():
            allowlist_path.write_text(allowlist)
        port, metrics_port = free_port(), free_port()
        args = ["--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir), "--allowlist", str(allowlist_path),
                "--upstream-ca", str(test_ca.ca_cert), "--metrics-listen", f"127.0.0.1:{metrics_port}",
                "--workers", str(workers), "--proxy-id", "test-proxy"]
        for host in _catalogue_hosts():
            args += ["--route", f"{host}={fake_upstream.address}"]
        args += extra_args or []
        proc = ProxyProcess(data_dir, args, port, metrics_port, data_dir / "proxy.log",
                            {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
        proc.extra["allowlist"] = allowlist_path
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()


def upload_through(proxy: ProxyProcess, upstream: FakeUpstream, filename: str, data: bytes) -> bytes:
    """Upload a file with the real openai SDK through `proxy`; the file's bytes as the upstream received them."""
    import openai

    upstream.handle("/v1/files", lambda rec: JSONResponse(
        {"id": "file-1", "object": "file", "bytes": len(rec.body), "created_at": 0, "filename": filename,
         "purpose": "assistants", "status": "processed"}))
    client = openai.OpenAI(api_key="sk-test", base_url="https://api.openai.com/v1", max_retries=0,
                           http_client=httpx.Client(proxy=proxy.url, verify=proxy.ssl))
    assert client.files.create(file=(filename, data), purpose="assistants").id == "file-1"
    received = upstream.requests_to("/v1/files")[-1]
    boundary = received.headers["content-type"].split("boundary=")[1].strip('"').encode()
    part = next(p for p in received.body.split(b"--" + boundary) if f'filename="{filename}"'.encode() in p)
    return part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0]


@pytest.fixture(scope="session")
def proxy(start_proxy: ProxyFactory) -> ProxyProcess:
    """One proxy shared by the end-to-end tests: 127.0.0.1 is staff."""
    return start_proxy()


@pytest.fixture
def make_admin() -> Iterator[Callable[..., FakeAdmin]]:
    """make_admin(token=..., port=...) -> a running FakeAdmin, stopped after the test."""
    admins: list[FakeAdmin] = []

    def make(token: str = "test-token", port: int = 0) -> FakeAdmin:
        admin = FakeAdmin(token, port).__enter__()
        admins.append(admin)
        return admin

    yield make
    for admin in admins:
        admin.__exit__()


def tls_exchange(proxy: ProxyProcess, raw: bytes) -> bytes:
    """Send `raw` bytes inside a CONNECT tunnel to api.openai.com through `proxy`; everything it answered."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
        sock.sendall(b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1024)
        assert head.startswith(b"HTTP/1.1 200"), head
        with proxy.ssl.wrap_socket(sock, server_hostname="api.openai.com") as tls:
            tls.sendall(raw)
            reply = b""
            try:
                while chunk := tls.recv(65536):
                    reply += chunk
            except (ssl.SSLError, OSError):
                pass
            return reply
