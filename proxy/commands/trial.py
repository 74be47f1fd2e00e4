"""`pupilguard trial`: a complete pupilguard on this machine, for trying it out (what `make run` starts).

It shows the three people pupilguard serves: the teacher (a demo chat page through the proxy, with the in-page
banner and the block page), IT (the proxy, its CA and logs) and the DPO (the dashboard, where the teacher's events
arrive under their proxy login). It creates a roster key and imports the synthetic sample roster, starts the admin
service on SQLite, creates a first DPO login and a proxy token, starts a demo AI service that echoes what it
receives and serves the demo chat page, and starts the proxy — with a proxy login for the teacher (an htpasswd
file) and api.openai.com and chatgpt.com routed to the demo service — then prints what to do next, including a
Chromium command with a throwaway profile that trusts the trial's CA (`--browser` runs it). Everything lives under
one data directory, so a second run reuses the same CA, key and logins. Ctrl-C stops every process it started.

The parts run as separate processes through the same `pupilguard` command a deployment uses, so the trial
exercises the real entry points (and the proxy never imports the admin service).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from rich.console import Console

REPO = Path(__file__).resolve().parents[2]
SAMPLE_ROSTER = REPO / "deploy" / "trial" / "sample-roster.csv"
DEMO_HOST = "api.openai.com"
DEMO_CHAT_HOST = "chatgpt.com"            # the demo chat page stands in for it
BLOCKED_SITE = "https://chat.deepseek.com/"  # not approved in allowlist.yaml: the block page
TEACHER = "teacher"
DEMO_PROMPT = "Write a short report comment for Oliver Smith (UPN T801200115100), who has worked hard in maths."
DEMO_BLOCKED_PROMPT = "Oliver Smith in 9B has an EHCP for autism. Draft targets for his annual review."

console = Console(stderr=True)


def register_trial(subparsers) -> None:
    parser = subparsers.add_parser("trial", help="run a complete local trial: admin service, proxy, sample roster")
    parser.add_argument("--data-dir", type=Path, default=Path(".trial"), help="where the trial keeps its state")
    parser.add_argument("--proxy-listen", default="127.0.0.1:8080", help="proxy address (port 0 = any free port)")
    parser.add_argument("--admin-listen", default="127.0.0.1:8700", help="admin address (port 0 = any free port)")
    parser.add_argument("--roster-csv", type=Path, default=SAMPLE_ROSTER, help="MIS export to import")
    # Alerts need both contacts at set-up, the trial included. Without PUPILGUARD_SMTP_HOST the messages
    # wait in the admin's outbox (shown on its Alert contacts page) rather than going anywhere
    parser.add_argument("--dsl-email", default="dsl@trial.invalid", help="the Designated Safeguarding Lead's e-mail")
    parser.add_argument("--dpo-email", default="dpo@trial.invalid", help="the Data Protection Officer's e-mail")
    parser.add_argument("--browser", action="store_true",
                        help="also open Chromium on the demo chat page, through the proxy, with a throwaway profile")
    parser.set_defaults(handler=run_trial)


def _free_address(listen: str) -> str:
    """The requested address, or a free port on the same host if it is taken or 0."""
    host, port = listen.rsplit(":", 1)
    with socket.socket() as sock:
        # as the servers themselves bind: a port left in TIME_WAIT by the last run is free, so it stays the same
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
        self.contacts = {"DSL": args.dsl_email, "DPO": args.dpo_email}
        self.processes: list[subprocess.Popen] = []
        self.browser: subprocess.Popen | None = None

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
        allowlist["profiles"]["staff"].setdefault("users", []).append(TEACHER)
        self.allowlist = self.dir / "allowlist.yaml"
        self.allowlist.write_text("# Trial copy of allowlist.yaml: this machine counts as staff.\n"
                                  + yaml.safe_dump(allowlist, sort_keys=False), encoding="utf-8")

    def start_admin(self, key: str) -> tuple[str, str]:
        env = {"PUPILGUARD_ROSTER_KEY_FILE": key, "PUPILGUARD_COOKIE_SECURE": "0",
               "PUPILGUARD_ALLOWLIST_FILE": str(self.allowlist), "PUPILGUARD_PUBLIC_URL": f"http://{self.admin_addr}",
               **{f"PUPILGUARD_{role}_EMAIL": email for role, email in self.contacts.items()}}
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

    def teacher_login(self) -> tuple[str, Path]:
        """The teacher's proxy password, and the htpasswd file (bcrypt) the proxy checks it against."""
        import bcrypt

        password_file, htpasswd = self.dir / "teacher-password", self.dir / "proxy-users.htpasswd"
        if not password_file.exists() or not htpasswd.exists():
            password = secrets.token_urlsafe(9)
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
            for path, text in ((htpasswd, f"{TEACHER}:{hashed}\n"), (password_file, password)):
                path.write_text(text)
                path.chmod(0o600)
        return password_file.read_text(), htpasswd

    def start_demo_upstream(self) -> tuple[str, Path]:
        from proxy.commands.demo_upstream import write_self_signed

        cert, key = self.dir / "demo-upstream.pem", self.dir / "demo-upstream.key"
        write_self_signed(cert, key, [DEMO_HOST, DEMO_CHAT_HOST])
        address = _free_address("127.0.0.1:0")
        demo = self._start("demo-upstream", sys.executable, "-m", "proxy.commands.demo_upstream", "--listen", address,
                           "--cert", str(cert), "--key", str(key))
        host, port = address.rsplit(":", 1)
        _wait_for(lambda: socket.create_connection((host, int(port)), timeout=1).close() is None,
                  "demo AI service", demo)
        return address, cert

    def start_proxy(self, key: str, roster: str, admin_url: str, demo: str, demo_ca: Path, htpasswd: Path) -> Path:
        proxy_dir = self.dir / "proxy"
        proxy = self._start(
            "proxy", sys.executable, "-m", "detectors.cli", "proxy", "--listen", self.proxy_addr,
            "--data-dir", str(proxy_dir), "--roster", roster, "--key-file", key, "--allowlist", str(self.allowlist),
            "--admin-url", admin_url, "--admin-token-file", str(self.dir / "proxy-token"),
            "--route", f"{DEMO_HOST}={demo}", "--route", f"{DEMO_CHAT_HOST}={demo}", "--upstream-ca", str(demo_ca),
            "--proxyauth", f"@{htpasswd}",
        )
        host, port = self.proxy_addr.rsplit(":", 1)
        ca = proxy_dir / "pupilguard-ca.pem"
        _wait_for(lambda: ca.exists() and socket.create_connection((host, int(port)), timeout=1).close() is None,
                  "proxy", proxy, timeout=180)
        return ca

    def stop(self) -> None:
        if self.browser and self.browser.poll() is None:
            self.browser.terminate()
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def curl_line(proxy_addr: str, ca: Path, password: str, prompt: str = DEMO_PROMPT) -> str:
    body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "%s"}]}' % prompt
    return (
        f"curl -s --proxy http://{proxy_addr} --proxy-user {TEACHER}:{shlex.quote(password)} "
        f"--cacert {shlex.quote(str(ca))} "
        f"https://{DEMO_HOST}/v1/chat/completions -H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def spki_hash(ca: Path) -> str:
    """base64 SHA-256 of the CA's public key: what Chromium's --ignore-certificate-errors-spki-list takes."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    public_key = x509.load_pem_x509_certificate(ca.read_bytes()).public_key()
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def browser_command(data_dir: Path, proxy_addr: str, ca: Path) -> list[str]:
    """Chromium with a throwaway profile that uses the proxy and trusts the trial's CA (mitmproxy signs every site
    certificate with the CA's key, so its key hash covers them) — nothing on this machine's own browser changes."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome") \
        or "chromium"
    return [chromium, f"--user-data-dir={data_dir / 'browser-profile'}", f"--proxy-server=http://{proxy_addr}",
            f"--ignore-certificate-errors-spki-list={spki_hash(ca)}", "--no-first-run", "--no-default-browser-check",
            f"https://{DEMO_CHAT_HOST}/"]


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
        teacher_password, htpasswd = trial.teacher_login()
        ca = trial.start_proxy(key, roster, admin_url, demo, demo_ca, htpasswd)
        browser = browser_command(trial.dir, trial.proxy_addr, ca)
        print(
            f"\npupilguard is running.\n\n"
            f"  Proxy:      http://{trial.proxy_addr}   proxy login: {TEACHER} / {teacher_password}   (or a PAC "
            f"file: pupilguard pac --proxy {trial.proxy_addr})\n"
            f"  CA file:    {ca}   (trust it on test devices)\n"
            f"  Dashboard:  {admin_url}/   login: dpo / {password}\n"
            f"  Alerts to:  DSL {trial.contacts['DSL']}, DPO {trial.contacts['DPO']}   (--dsl-email, --dpo-email)\n"
            f"  Logs:       {trial.dir}/*.log\n\n"
            f"As a teacher: open the demo chat page ({DEMO_CHAT_HOST} is answered by a local demo service) in a\n"
            f"throwaway Chromium profile that uses the proxy, sign in to the proxy as {TEACHER}, and press Send;\n"
            f"then try {BLOCKED_SITE} (a tool the school has not approved):\n\n"
            f"Browser:    {shlex.join(browser)}\n\n"
            f"Or send a prompt with a pupil's name with curl ({DEMO_HOST} echoes what it received):\n\n"
            f"{curl_line(trial.proxy_addr, ca, teacher_password)}\n\n"
            f"A prompt that links a pupil to special-educational-needs information is stopped instead:\n\n"
            f"{curl_line(trial.proxy_addr, ca, teacher_password, DEMO_BLOCKED_PROMPT)}\n\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        if args.browser:  # not watched like the services: closing the browser does not stop the trial
            trial.browser = subprocess.Popen(browser, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                             start_new_session=True)
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
