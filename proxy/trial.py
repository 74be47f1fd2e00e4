"""`pupilguard trial`: a complete pupilguard on this machine, for trying it out (what `make run` starts).

It creates a roster key and imports the synthetic sample roster, starts the admin service on SQLite, creates a
first DPO login and a proxy token, starts a demo AI service that echoes what it receives, and starts the proxy with
api.openai.com routed to that demo service — then prints what to do next. Everything lives under one data
directory, so a second run reuses the same CA, key and login. Ctrl-C stops every process it started.

The parts run as separate processes through the same `pupilguard` command a deployment uses, so the trial
exercises the real entry points (and the proxy never imports the admin service).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from rich.console import Console
from rich.panel import Panel

REPO = Path(__file__).resolve().parent.parent
SAMPLE_ROSTER = REPO / "deploy" / "trial" / "sample-roster.csv"
DEMO_HOST = "api.openai.com"
DEMO_PROMPT = "Write a short report comment for Oliver Smith (UPN T801200115100), who has worked hard in maths."
DEMO_BLOCKED_PROMPT = "Oliver Smith in 9B has an EHCP for autism. Draft targets for his annual review."

console = Console(stderr=True)


def register_trial(subparsers) -> None:
    parser = subparsers.add_parser("trial", help="run a complete local trial: admin service, proxy, sample roster")
    parser.add_argument("--data-dir", type=Path, default=Path(".trial"), help="where the trial keeps its state")
    parser.add_argument("--proxy-listen", default="127.0.0.1:8080", help="proxy address (port 0 = any free port)")
    parser.add_argument("--admin-listen", default="127.0.0.1:8700", help="admin address (port 0 = any free port)")
    parser.add_argument("--roster-csv", type=Path, default=SAMPLE_ROSTER, help="MIS export to import")
    parser.set_defaults(handler=run_trial)


def _free_address(listen: str) -> str:
    """The requested address, or a free port on the same host if it is taken or 0."""
    host, port = listen.rsplit(":", 1)
    with socket.socket() as sock:
        try:
            sock.bind((host, int(port)))
        except OSError:
            sock.bind((host, 0))
        return f"{host}:{sock.getsockname()[1]}"


def _wait_for(check, what: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pupilguard trial: the {what} stopped during start-up (exit {process.returncode})")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"pupilguard trial: the {what} did not start within {timeout:.0f} s")


def _pupilguard(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detectors.cli", *args], check=True, text=True, **kwargs)


class Trial:
    def __init__(self, args: argparse.Namespace):
        self.dir = args.data_dir.resolve()
        self.roster_csv = args.roster_csv
        self.proxy_addr = _free_address(args.proxy_listen)
        self.admin_addr = _free_address(args.admin_listen)
        self.processes: list[subprocess.Popen] = []

    def _start(self, name: str, *command: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            start_new_session=True,  # our Ctrl-C handling stops them, in order
        )
        self.processes.append(process)
        return process

    def prepare(self) -> tuple[str, str]:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._write_allowlist()
        key = self.dir / "roster.key"
        roster = self.dir / "roster.pgr"
        if not roster.exists():
            console.print("Importing the synthetic sample roster (hashes only)…")
            _pupilguard("roster", "import", str(self.roster_csv), "--out", str(roster), "--key-file", str(key))
        return str(key), str(roster)

    def _write_allowlist(self) -> None:
        """The repository's allowlist, with this machine in the staff profile so the trial's prompts are scanned."""
        allowlist = yaml.safe_load((REPO / "allowlist.yaml").read_text(encoding="utf-8"))
        allowlist["profiles"]["staff"].setdefault("subnets", []).extend(["127.0.0.0/8", "::1/128"])
        self.allowlist = self.dir / "allowlist.yaml"
        self.allowlist.write_text("# Trial copy of allowlist.yaml: this machine counts as staff.\n"
                                  + yaml.safe_dump(allowlist, sort_keys=False), encoding="utf-8")

    def start_admin(self, key: str) -> tuple[str, str]:
        env = {"PUPILGUARD_ROSTER_KEY_FILE": key, "PUPILGUARD_COOKIE_SECURE": "0",
               "PUPILGUARD_ALLOWLIST_FILE": str(self.allowlist)}
        admin = self._start("admin", sys.executable, "-m", "detectors.cli", "admin", "serve", "--listen", self.admin_addr,
                            "--data-dir", str(self.dir / "admin"), env=env)
        url = f"http://{self.admin_addr}"
        _wait_for(lambda: httpx.get(f"{url}/healthz", timeout=2).status_code == 200, "admin service", admin)
        admin_args = ("--data-dir", str(self.dir / "admin"))
        password_file = self.dir / "dpo-password"
        if not password_file.exists():
            password = secrets.token_urlsafe(12)
            _pupilguard("admin", "create-user", "dpo", "--role", "dpo", "--password-stdin", *admin_args,
                        input=password + "\n", env={**os.environ, **env}, stdout=subprocess.DEVNULL)
            password_file.write_text(password)
            password_file.chmod(0o600)
        imported = self.dir / "admin-roster-imported"
        if not imported.exists():  # the DPO's "Find a pupil" looks names up in the admin's copy of the roster
            _pupilguard("admin", "roster", "import", str(self.roster_csv), *admin_args,
                        env={**os.environ, **env}, stdout=subprocess.DEVNULL)
            imported.touch()
        token_file = self.dir / "proxy-token"
        if not token_file.exists():
            created = _pupilguard("admin", "proxy-token", "create", "trial", *admin_args,
                                  capture_output=True, env={**os.environ, **env})
            token_file.write_text(created.stdout.strip().splitlines()[-1].split()[-1])
            token_file.chmod(0o600)
        return url, password_file.read_text()

    def start_demo_upstream(self) -> tuple[str, Path]:
        from proxy.demo_upstream import write_self_signed

        cert, key = self.dir / "demo-upstream.pem", self.dir / "demo-upstream.key"
        if not cert.exists():
            write_self_signed(cert, key, [DEMO_HOST])
        address = _free_address("127.0.0.1:0")
        demo = self._start("demo-upstream", sys.executable, "-m", "proxy.demo_upstream", "--listen", address,
                           "--cert", str(cert), "--key", str(key))
        host, port = address.rsplit(":", 1)
        _wait_for(lambda: socket.create_connection((host, int(port)), timeout=1).close() is None,
                  "demo AI service", demo)
        return address, cert

    def start_proxy(self, key: str, roster: str, admin_url: str, demo: str, demo_ca: Path) -> Path:
        proxy_dir = self.dir / "proxy"
        proxy = self._start(
            "proxy", sys.executable, "-m", "detectors.cli", "proxy", "--listen", self.proxy_addr,
            "--data-dir", str(proxy_dir), "--roster", roster, "--key-file", key, "--allowlist", str(self.allowlist),
            "--admin-url", admin_url, "--admin-token-file", str(self.dir / "proxy-token"),
            "--route", f"{DEMO_HOST}={demo}", "--upstream-ca", str(demo_ca),
        )
        host, port = self.proxy_addr.rsplit(":", 1)
        ca = proxy_dir / "pupilguard-ca.pem"
        _wait_for(lambda: ca.exists() and socket.create_connection((host, int(port)), timeout=1).close() is None,
                  "proxy", proxy, timeout=180)
        return ca

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def curl_line(proxy_addr: str, ca: Path, prompt: str = DEMO_PROMPT) -> str:
    body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "%s"}]}' % prompt
    return (
        f"curl -s --proxy http://{proxy_addr} --cacert {shlex.quote(str(ca))} "
        f"https://{DEMO_HOST}/v1/chat/completions -H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def _interrupt(signum, frame) -> None:
    """Ctrl-C or SIGTERM stops the trial; a second one must not cut the clean-up short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_trial(args: argparse.Namespace) -> int:
    trial = Trial(args)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        key, roster = trial.prepare()
        console.print("Starting the admin service (SQLite)…")
        admin_url, password = trial.start_admin(key)
        console.print("Starting the demo AI service and the proxy (loading the language model)…")
        demo, demo_ca = trial.start_demo_upstream()
        ca = trial.start_proxy(key, roster, admin_url, demo, demo_ca)
        print(
            f"\npupilguard is running.\n\n"
            f"  Proxy:      http://{trial.proxy_addr}   (set it as the HTTP/HTTPS proxy, or use a PAC file: "
            f"pupilguard pac --proxy {trial.proxy_addr})\n"
            f"  CA file:    {ca}   (trust it on test devices)\n"
            f"  Dashboard:  {admin_url}/   login: dpo / {password}\n"
            f"  Logs:       {trial.dir}/*.log\n\n"
            f"Send a prompt with a pupil's name through the proxy ({DEMO_HOST} is answered by a local demo service\n"
            f"that echoes what it received):\n\n{curl_line(trial.proxy_addr, ca)}\n\n"
            f"A prompt that links a pupil to special-educational-needs information is stopped instead:\n\n"
            f"{curl_line(trial.proxy_addr, ca, DEMO_BLOCKED_PROMPT)}\n\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        while all(p.poll() is None for p in trial.processes):
            time.sleep(0.5)
        console.print("[red]A pupilguard process stopped; see the logs above. Stopping the trial.[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("\nStopping pupilguard…")
        return 0
    except subprocess.CalledProcessError as error:
        console.print(f"[red]pupilguard trial: `{' '.join(map(str, error.cmd[3:]))}` failed[/red]")
        return 1
    finally:
        trial.stop()
