"""The deployment kit stays in step with the code: every command line it ships parses with today's CLI."""
import re
import shlex
from pathlib import Path

import pytest
import yaml

from detectors.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SAMPLE_ENV = {
    "PUPILGUARD_LISTEN": "0.0.0.0:3128",
    "PUPILGUARD_ADMIN_URL": "https://admin.example",
    "PUPILGUARD_METRICS_LISTEN": "127.0.0.1:9464",
    "PUPILGUARD_ADMIN_LISTEN": "127.0.0.1:8700",
    "PUPILGUARD_PROXY_OPTIONS": "--allow-public-clients",
}


def _exec_lines(unit: Path) -> list[list[str]]:
    text = re.sub(r"\\\n\s*", " ", unit.read_text())  # systemd line continuations
    lines = [line.split("=", 1)[1] for line in text.splitlines() if re.match(r"ExecStart(Pre)?=", line)]
    variable = re.compile(r"\$\{(\w+)\}|\$(\w+)")  # ${NAME} is one word, $NAME splits into several
    expanded = [variable.sub(lambda m: SAMPLE_ENV[m.group(1) or m.group(2)], line) for line in lines]
    return [shlex.split(line)[1:] for line in expanded]  # drop the pupilguard binary path


def _parses(argv: list[str]) -> None:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit:  # argparse's way of reporting an unknown flag
        pytest.fail(f"`pupilguard {' '.join(argv)}` does not parse (exit {exit.code})")
    assert args.handler.__name__ != "fail", f"`pupilguard {argv[0]}` is unavailable"


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_systemd_units_run_real_commands(unit):
    commands = _exec_lines(unit)
    assert commands, f"{unit.name} has no ExecStart"
    for argv in commands:
        _parses(argv)


def test_compose_services_run_real_commands():
    compose = yaml.safe_load((DEPLOY / "docker" / "compose.yaml").read_text())
    commands = [svc["command"] for svc in compose["services"].values() if "command" in svc]
    assert len(commands) == 2
    for argv in commands:
        _parses(argv)
    for name, svc in compose["services"].items():
        for secret in svc.get("secrets", []):
            assert secret in compose["secrets"], f"{name} uses undeclared secret {secret}"
    dockerfile = DEPLOY.parent / compose["services"]["admin"]["build"]["dockerfile"]
    assert dockerfile.exists()


def test_dockerfile_copies_only_existing_paths():
    root = DEPLOY.parent
    for line in (DEPLOY / "docker" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (root / source).exists(), f"Dockerfile copies missing {source}"


HARDENING = ("ProtectSystem=strict", "ReadWritePaths=/var/lib/pupilguard/", "NoNewPrivileges=yes",
             "CapabilityBoundingSet=\n", "PrivateTmp=yes", "ProtectHome=yes",
             "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service")


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_systemd_units_are_hardened(unit):
    """Each service may write only its own state directory (tests/deploy/test_install.py runs systemd-analyze
    verify on the installed units)."""
    text = unit.read_text()
    missing = [directive.strip() for directive in HARDENING if directive not in text]
    assert not missing, f"{unit.name} lacks {missing}"
