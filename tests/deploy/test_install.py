"""The production guide, followed word for word, gives a working proxy and admin service.

The commands are taken from deploy/README.md itself (its ```sh step=… blocks), so the guide and this test cannot
drift. They run as the guide says, into a scratch root (deploy/install.sh moves every path with PUPILGUARD_ROOT),
with `sudo` standing for "as this user". Then both services start the way systemd would start them — the installed
units' own command lines and environment files (proxy.commands.systemd_unit) — and a prompt with a pupil's name and
UPN is sent through the proxy to a local stand-in for api.openai.com, which must receive it redacted.

The Python environment is the slow part: it is kept between runs (keyed by pyproject.toml and constraints.txt),
and the installer brings it up to date as it would on a re-run after `git pull`.
"""
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import tomllib
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from proxy.commands.demo_upstream import serve, write_self_signed
from proxy.commands.systemd_unit import ServiceUnit
from proxy.commands.trial import DEMO_PROMPT, SAMPLE_ROSTER

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "deploy" / "README.md"

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

# `sudo [-u USER] [--preserve-env=…] CMD`: here, CMD as the current user (the scratch install's service account).
SUDO_AS_THIS_USER = """
sudo() {
  while [ $# -gt 0 ]; do
    case $1 in -u) shift 2 ;; -E|--preserve-env=*) shift ;; *) break ;; esac
  done
  "$@"
}
"""


def guide_step(name: str) -> str:
    blocks = re.findall(r"```sh step=(\S+)\n(.*?)```", GUIDE.read_text(), re.S)
    found = [body for step, body in blocks if step == name]
    assert len(found) == 1, f"deploy/README.md has no single ```sh step={name} block"
    return found[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def runtime_venv():
    """The production environment, kept across runs while the dependency pins stay the same."""
    pins = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + (REPO / "constraints.txt").read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pupilguard-tests"
    return cache / f"runtime-venv-{pins.hexdigest()[:12]}"


class Host:
    """A scratch root the guide's commands install into, and the services started from its units."""

    def __init__(self, root: Path, venv: Path) -> None:
        self.root, self.venv = root, venv
        self.workdir = root / "home"          # where the technician stands: the checkout's deploy/ and an export
        self.workdir.mkdir(parents=True)
        (self.workdir / "deploy").symlink_to(REPO / "deploy")
        shutil.copy(SAMPLE_ROSTER, self.workdir / "sims-export.csv")
        self.ports = {name: _free_port() for name in ("proxy", "admin", "metrics")}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PUPILGUARD_", "PG"))},
            "PATH": f"{root}/usr/local/sbin:{os.environ['PATH']}",
            "PUPILGUARD_ROOT": str(root), "PUPILGUARD_VENV": str(venv), "PUPILGUARD_USER": _current_user(),
            "PUPILGUARD_PROXY_LISTEN": f"127.0.0.1:{self.ports['proxy']}",
            "PUPILGUARD_ADMIN_LISTEN": f"127.0.0.1:{self.ports['admin']}",
            "PUPILGUARD_METRICS_LISTEN": f"127.0.0.1:{self.ports['metrics']}",
            "PGHOST": "127.0.0.1", "PGUSER": "postgres",   # `sudo -u postgres psql`, on the test server
        }
        self.processes: list[subprocess.Popen] = []

    def run_guide(self, script: str, timeout: float = 600) -> str:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", SUDO_AS_THIS_USER + script], cwd=self.workdir,
                              env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"guide step failed:\n{script}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        return done.stdout

    @property
    def etc(self) -> Path:
        return self.root / "etc" / "pupilguard"

    def unit(self, name: str) -> Path:
        return self.root / "etc" / "systemd" / "system" / f"pupilguard-{name}.service"

    def start(self, name: str) -> None:
        """As systemd would: the unit's environment only, ExecStartPre= then ExecStart=."""
        unit = ServiceUnit.read(self.unit(name))
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.root), "LANG": "C.UTF-8",
               **unit.environment}
        for command in unit.exec_start_pre:
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
        log = open(self.root / f"{name}.log", "wb")
        self.processes.append(subprocess.Popen(unit.exec_start, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def wait_healthy(self, url: str, what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert all(p.poll() is None for p in self.processes), f"{what} stopped:\n{self.logs()}"
            try:
                if httpx.get(url, timeout=2).json().get("status") == "ok":
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        pytest.fail(f"{what} not healthy within {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.root.glob("*.log"))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def demo_ai(tmp_path):
    """A stand-in for api.openai.com on loopback that answers with what it received."""
    cert, key = tmp_path / "demo.pem", tmp_path / "demo.key"
    write_self_signed(cert, key, ["api.openai.com"])
    address = f"127.0.0.1:{_free_port()}"
    ready = threading.Event()
    threading.Thread(target=serve, args=(address, cert, key, ready), daemon=True).start()
    ready.wait(10)
    return address, cert


def _configure_for_this_machine(host: Host, demo_address: str, demo_cert: Path) -> None:
    """What IT edits after installing: this machine is staff, and api.openai.com is the loopback stand-in."""
    allowlist = yaml.safe_load((host.etc / "allowlist.yaml").read_text())
    allowlist["profiles"]["staff"]["subnets"] = ["127.0.0.0/8"]
    allowlist["tools"] = {"openai-api": {"staff": "approved", "pupil": "blocked"}}
    (host.etc / "allowlist.yaml").write_text(yaml.safe_dump(allowlist))
    proxy_env = host.etc / "proxy.env"
    proxy_env.write_text(proxy_env.read_text().replace(
        "PUPILGUARD_PROXY_OPTIONS=",
        f"PUPILGUARD_PROXY_OPTIONS=--route api.openai.com={demo_address} --upstream-ca {demo_cert}"))


def _install_and_send_a_prompt(host: Host, demo_ai, steps: str) -> None:
    started = time.monotonic()
    output = host.run_guide(steps)
    install_s = time.monotonic() - started
    assert "pupilguard is installed" in output and "sudo pupilguard doctor" in output

    # What the installer made: a hex key only the service reads, private state, no test tools.
    key = host.etc / "roster.key"
    assert re.fullmatch(r"[0-9a-f]{64}\n", key.read_text())
    assert oct(key.stat().st_mode & 0o777) == "0o640"
    for state in ("proxy", "admin"):
        assert oct((host.root / "var/lib/pupilguard" / state).stat().st_mode & 0o777) == "0o700"
    size_mb = int(subprocess.run(["du", "-sm", str(host.venv)], capture_output=True, text=True).stdout.split()[0])
    print(f"\ninstall: {install_s:.0f} s; production environment: {size_mb} MiB (bench/env_size.py: per package)")

    for name in ("proxy", "admin"):
        verify = subprocess.run(["systemd-analyze", "verify", str(host.unit(name))], capture_output=True, text=True)
        assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr

    _configure_for_this_machine(host, *demo_ai)
    roster_line = next(line for line in guide_step("roster").splitlines() if "roster import" in line)
    assert "pupils" in host.run_guide(roster_line, timeout=120)
    try:
        host.start("admin")
        host.wait_healthy(f"http://127.0.0.1:{host.ports['admin']}/healthz", "admin service")
        host.start("proxy")
        host.wait_healthy(f"http://127.0.0.1:{host.ports['metrics']}/healthz", "proxy")

        ca = host.root / "var/lib/pupilguard/proxy/pupilguard-ca.pem"
        with httpx.Client(proxy=f"http://127.0.0.1:{host.ports['proxy']}", verify=str(ca), timeout=60) as client:
            reply = client.post("https://api.openai.com/v1/chat/completions",
                                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": DEMO_PROMPT}]})
        assert reply.status_code == 200, reply.text
        received = reply.json()["choices"][0]["message"]["content"]
        assert received.startswith("The AI service received:")
        assert "Oliver Smith" not in received and "T801200115100" not in received
        assert "[PUPIL_1]" in received and "[UPN_1]" in received  # the roster came from the admin service

        checked = json.loads(host.run_guide(guide_step("check").strip() + " --json", timeout=180))
        assert checked["status"] != "fail", checked
        assert {c["name"] for c in checked["checks"] if c["status"] == "ok"} >= {
            "Proxy", "CA certificate", "Roster", "AI services", "Admin service", "Proxy token", "Language model", "OCR"}
    finally:
        host.stop()


def _installed_distributions(venv: Path) -> set[str]:
    site = next(venv.glob("lib/python3*/site-packages"))
    return {_normalised(d.metadata["Name"]) for d in importlib.metadata.distributions(path=[str(site)])}


def _normalised(requirement: str) -> str:
    """PEP 503 name of a requirement or distribution ("Flask==3.1" -> "flask", "psycopg[binary]" -> "psycopg")."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


def test_installer_puts_no_test_tools_in_the_production_environment(tmp_path, runtime_venv):
    """The proxy host gets the runtime dependencies only: no test runner, browser driver or AI client SDK (the test
    extra), and none of the packages' own test suites."""
    host = Host(tmp_path / "root", runtime_venv)
    host.run_guide(guide_step("install"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    test_tools = {_normalised(r) for r in project["optional-dependencies"]["test"]}
    assert {"pytest", "playwright", "openai", "anthropic"} <= test_tools
    installed = _installed_distributions(host.venv)
    assert {_normalised(r) for r in project["dependencies"]} <= installed
    assert installed & test_tools == set()
    site = next(host.venv.glob("lib/python3*/site-packages"))
    assert [p.relative_to(site) for p in site.glob("**/tests") if p.is_dir()] == []


def test_guide_installs_a_working_host_on_sqlite(tmp_path, runtime_venv, demo_ai):
    host = Host(tmp_path / "root", runtime_venv)
    _install_and_send_a_prompt(host, demo_ai, guide_step("install"))
    assert (host.root / "var/lib/pupilguard/admin/admin.sqlite3").exists()
    # Idempotent: a second run changes no key or setting and still succeeds.
    before = {p.name: p.read_bytes() for p in host.etc.iterdir()}
    host.run_guide(guide_step("install"))
    assert {p.name: p.read_bytes() for p in host.etc.iterdir()} == before


@pytest.mark.postgres
def test_guide_installs_a_working_host_on_postgresql(tmp_path, runtime_venv, demo_ai):
    name = f"pupilguard_install_{uuid.uuid4().hex[:8]}"  # the guide's role and database, renamed for this run
    host = Host(tmp_path / "root", runtime_venv)
    steps = re.sub(r"\bpupilguard\b", name, guide_step("postgres")) + guide_step("install")
    try:
        _install_and_send_a_prompt(host, demo_ai, steps)
        assert "DATABASE_URL=postgresql+psycopg://" in (host.etc / "admin.env").read_text()
        assert not (host.root / "var/lib/pupilguard/admin/admin.sqlite3").exists()
    finally:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}"',
                        "-c", f'DROP ROLE IF EXISTS "{name}"'], capture_output=True)
