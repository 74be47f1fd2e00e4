"""The deployment kit stays in step with the code: every command line it ships parses with today's CLI."""
import re
import shlex
import shutil
import subprocess
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


def _debian_packages() -> list[str]:
    lines = (DEPLOY / "debian-packages.txt").read_text().splitlines()
    return [line.split()[0] for line in lines if line.strip() and not line.startswith("#")]


def test_installer_installs_tesseract_and_its_data_for_every_ocr_language():
    from proxy.ocr import OcrSpec

    packages = _debian_packages()
    assert "tesseract-ocr" in packages
    missing = [f"tesseract-ocr-{lang}" for lang in OcrSpec().langs.split("+")
               if f"tesseract-ocr-{lang}" not in packages]
    assert missing == [], f"the proxy reads {OcrSpec().langs} but the installer does not install {missing}"


@pytest.mark.skipif(shutil.which("apt-cache") is None, reason="needs Debian's apt")
def test_installers_debian_packages_exist():
    # one apt-cache for the whole list (each start reads the package lists again, half a second apiece); it shows
    # a record for every package it knows, and only warns about the others
    packages = _debian_packages()
    shown = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages], capture_output=True, text=True)
    known = set(re.findall(r"^Package: (\S+)$", shown.stdout, re.M))
    assert [package for package in packages if package not in known] == []


def test_guide_leaves_the_installers_packages_to_the_installer():
    """The guide never has IT apt-get by hand what the installer installs (two lists would drift), and the flags it
    gives the installer are the installer's."""
    guide = (DEPLOY / "README.md").read_text()
    by_hand = {package for line in re.findall(r"apt-get install ([^`\n]+)", guide) for package in line.split()}
    assert by_hand & set(_debian_packages()) == set()
    assert "`debian-packages.txt`" in guide
    flags = re.findall(r"installer with `(--[\w-]+)`", guide)
    assert "--no-apt" in flags  # what a host without apt does
    for flag in flags:
        usage = subprocess.run(["bash", str(DEPLOY / "install.sh"), flag, "--help"], capture_output=True, text=True)
        assert usage.returncode == 0 and flag in usage.stdout, f"install.sh does not take {flag}: {usage.stderr}"
