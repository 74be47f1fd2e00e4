"""`pupilguard scan` end to end, as a subprocess: JSON lines in, one decision per line out."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from detectors.mis_import import import_mis_csv
from detectors.roster import RosterKey

pytestmark = pytest.mark.e2e

PUPILGUARD = [str(Path(sys.executable).with_name("pupilguard"))]


def run(args, stdin: bytes, env=None):
    env = {k: v for k, v in os.environ.items() if k != "PUPILGUARD_ROSTER_KEY"} | (env or {})
    return subprocess.run(PUPILGUARD + ["scan", *args], input=stdin, capture_output=True, timeout=180, env=env)


@pytest.fixture(scope="module")
def roster_files(tmp_path_factory, roster_csv):
    folder = tmp_path_factory.mktemp("scan-cli")
    key_file = folder / "roster.key"
    key = RosterKey.load_or_create(key_file)
    import_mis_csv(roster_csv.encode(), folder / "pupils.roster", key)
    return folder / "pupils.roster", key_file


def test_scan_with_roster_good_and_bad_lines(roster_files):
    roster, key_file = roster_files
    lines = [
        json.dumps({"id": "a", "text": "Oliver Smith in 8B did well. Ring 07911 123456."}),
        "this is not json {",
        json.dumps({"id": 7, "text": "Zoë O'Brien has an EHCP and ADHD."}),
        json.dumps({"id": "no-text"}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"id": "c", "text": "Plan a lesson on Florence Nightingale."}),
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b'{"id": "bytes", "text": "caf\xe9"}\n'
    proc = run(["--roster", str(roster), "--key-file", str(key_file)], stdin)
    assert proc.returncode == 0, proc.stderr.decode()
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [o["id"] for o in out] == ["a", None, 7, "no-text", None, "c", None]
    a, bad_json, blocked, no_text, not_object, clean, bad_bytes = out
    assert a["action"] == "redact" and a["text"] == "[PUPIL_1] in 8B did well. Ring [PHONE_1]."
    assert a["reasons"] == ["identifier_redacted"]
    assert {f["entity"] for f in a["findings"]} == {"PUPIL", "PHONE_NUMBER"}
    assert all(set(f) <= {"entity", "start", "end", "score", "subtype"} for f in a["findings"])
    assert blocked["action"] == "block" and blocked["text"] is None
    assert blocked["reasons"] == ["special_category_with_identifier"]
    assert clean == {"id": "c", "action": "allow", "text": "Plan a lesson on Florence Nightingale.",
                     "findings": [], "reasons": []}
    assert "invalid JSON" in bad_json["error"] and "line 2" in bad_json["error"]
    assert "text" in no_text["error"] and "object" in not_object["error"]
    assert "UTF-8" in bad_bytes["error"]
    # nothing raw from the blocked or redacted inputs reaches stdout or stderr
    everything = proc.stdout.decode() + proc.stderr.decode()
    for raw in ("Oliver", "07911", "Zoë", "O'Brien"):
        assert raw not in everything


def test_policy_and_tool_options(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ntools:\n  copilot: {mode: monitor}\nprofiles:\n  pupil: {entities: {PERSON: block}}\n")
    stdin = json.dumps({"id": 1, "text": "Ask Mrs Okafor about the trip."}).encode() + b"\n"
    monitor = json.loads(run(["--policy", str(policy), "--tool", "copilot"], stdin).stdout)
    assert monitor["action"] == "redact" and monitor["text"] == "Ask Mrs [PERSON_1] about the trip."
    assert monitor["reasons"] == ["identifier_redacted"]  # monitor still redacts identifiers
    pupil = json.loads(run(["--policy", str(policy), "--profile", "pupil"], stdin).stdout)
    assert pupil["action"] == "block" and pupil["reasons"] == ["policy_block"]


@pytest.mark.parametrize("args, message", [
    (["--policy", "/nonexistent/policy.yaml"], "cannot read"),
    (["--roster", "/nonexistent/pupils.roster", "--key-file", "/nonexistent/key"], "roster"),
    (["--model", "/nonexistent/model"], "cannot load spaCy model"),
])
def test_start_up_errors_are_one_clear_line(args, message, tmp_path):
    proc = run(args, b"")
    err = proc.stderr.decode()
    assert proc.returncode == 2 and message in err and "Traceback" not in err
    assert err.startswith("pupilguard scan: error:")
