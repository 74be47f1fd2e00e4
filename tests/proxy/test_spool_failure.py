"""A spool that cannot be written (disk full, read-only file system) must not lose events silently: the prompt whose
event cannot be recorded is refused (unless --forward-unrecorded), /healthz turns red and a metric counts each lost
event. The spool lives on a real 8 MB tmpfs, filled up or remounted read-only under the running proxy."""
from __future__ import annotations

import errno
import json
import subprocess
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

UPN = "T801200115100"
CHAT = "https://api.openai.com/v1/chat/completions"


@pytest.fixture
def tiny_spool_disk(tmp_path: Path):
    spool = tmp_path / "data" / "spool"
    spool.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(spool)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield spool
    subprocess.run(["umount", "-l", str(spool)], check=False)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def _ask(proxy, text: str) -> httpx.Response:
    with proxy.client() as client:
        return client.post(CHAT, json={"model": "m", "messages": [{"role": "user", "content": text}]})


def _health(proxy) -> httpx.Response:
    return httpx.get(f"{proxy.metrics_url}/healthz", timeout=5)


def test_prompt_whose_event_cannot_be_recorded_is_refused_and_health_goes_red(start_proxy, upstream,
                                                                              tiny_spool_disk):
    proxy = start_proxy(data_dir=tiny_spool_disk.parent, workers=1)
    assert _ask(proxy, f"Report for the pupil with UPN {UPN}.").status_code == 200  # recorded: fine
    filler = _fill(tiny_spool_disk)

    refused = _ask(proxy, f"Write to the parents of the pupil with UPN {UPN}.")
    assert refused.status_code == 403 and "could not record it" in refused.json()["error"]["message"]
    assert len(upstream.requests_to("/v1/chat/completions")) == 1  # only the first one left
    assert _ask(proxy, "Suggest a starter on fractions.").status_code == 200  # nothing to record: not refused
    health = _health(proxy)
    assert health.status_code == 503 and health.json()["status"] == "spool_failing"
    lost = proxy.metric("pupilguard_events_not_recorded_total")
    assert lost >= 2  # the redaction, and the refusal that replaced it
    assert health.json()["spool_error"] == "SQLITE_FULL"

    filler.unlink()  # space again: the next event is written and health recovers
    assert _ask(proxy, f"Report for the pupil with UPN {UPN}.").status_code == 200
    assert _health(proxy).status_code == 200
    assert proxy.metric("pupilguard_events_not_recorded_total") == lost


def test_forward_unrecorded_lets_redacted_prompts_out_but_still_counts_and_reports(
        start_proxy, upstream, tiny_spool_disk):
    proxy = start_proxy(data_dir=tiny_spool_disk.parent, workers=1, extra_args=["--forward-unrecorded"])
    _fill(tiny_spool_disk)
    r = _ask(proxy, f"Report for the pupil with UPN {UPN}.")
    assert r.status_code == 200
    [sent] = upstream.requests_to("/v1/chat/completions")
    assert UPN not in sent.text and "[UPN_1]" in json.loads(sent.body)["messages"][0]["content"]
    assert proxy.metric("pupilguard_events_not_recorded_total") == 1
    assert _health(proxy).status_code == 503


def test_proxy_does_not_start_on_a_read_only_spool(tiny_spool_disk, tmp_path):
    import sys

    subprocess.run(["mount", "-o", "remount,ro", str(tiny_spool_disk)], check=True)
    allowlist = tmp_path / "allowlist.yaml"
    allowlist.write_text("version: 1\nprofiles:\n  staff: {subnets: [127.0.0.0/8]}\ndefault_profile: staff\n")
    done = subprocess.run([sys.executable, "-m", "detectors.cli", "proxy", "--listen", "127.0.0.1:0", "--data-dir",
                           str(tiny_spool_disk.parent), "--allowlist", str(allowlist)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "event spool" in done.stderr and "cannot be written" in done.stderr
    assert "Traceback" not in done.stderr
