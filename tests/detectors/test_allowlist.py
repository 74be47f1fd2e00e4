"""allowlist.yaml: which AI tools each profile may use."""
from pathlib import Path

import pytest

from detectors.allowlist import AllowlistError, load_allowlist

REPO = Path(__file__).resolve().parents[2]
BASE = """version: 1
policy_url: https://example.sch.uk/ai-policy
profiles:
  staff: {subnets: [10.0.0.0/16, "fd00::/64"], groups: [staff], users: [head@example.sch.uk]}
  sencos: {subnets: [10.0.5.0/24]}
  pupil: {subnets: [10.1.0.0/16], groups: [pupils]}
default_profile: pupil
default_status: blocked
tools:
  chatgpt: {staff: approved, pupil: blocked}
  copilot: {staff: monitor}
  openai-api: {staff: approved, restore_placeholders: true}
"""


def test_repo_allowlist_loads():
    allow = load_allowlist(REPO / "allowlist.yaml")
    assert allow.status("chatgpt", "staff") == "approved"
    assert allow.status("chatgpt", "pupil") == "blocked"
    assert allow.default_profile in allow.profiles


def test_profile_by_user_group_then_most_specific_subnet_then_default():
    allow = load_allowlist(BASE)
    assert allow.profile_for("10.1.2.3", user="head@example.sch.uk") == "staff"
    assert allow.profile_for("10.1.2.3", groups=["staff"]) == "staff"
    assert allow.profile_for("10.1.2.3", groups=["Domain Users", "STAFF"]) == "staff"  # directory names: any case
    assert allow.profile_for("10.1.2.3", user="Head@Example.sch.uk") == "staff"
    assert allow.profile_for("10.0.5.9") == "sencos"           # /24 beats /16
    assert allow.profile_for("10.0.9.9") == "staff"
    assert allow.profile_for("::ffff:10.0.9.9") == "staff"      # IPv4-mapped IPv6
    assert allow.profile_for("fd00::1") == "staff"
    assert allow.profile_for("192.168.1.1") == "pupil"
    assert allow.profile_for("not-an-ip") == "pupil"
    assert allow.profile_for(None) == "pupil"


def test_status_defaults_and_options():
    allow = load_allowlist(BASE)
    assert allow.status("copilot", "staff") == "monitor"
    assert allow.status("copilot", "pupil") == "blocked"        # listed tool, unlisted profile
    assert allow.status("unknown-ai", "staff") == "blocked"     # unlisted tool
    assert allow.approved_tools("staff") == ["chatgpt", "copilot", "openai-api"]
    assert allow.restore_placeholders("openai-api") is True      # opted in
    assert allow.restore_placeholders("chatgpt") is False        # off by default
    assert allow.restore_placeholders("unknown-ai") is False


@pytest.mark.parametrize("change, line, words", [
    (("staff: approved, pupil: blocked", "staff: aproved, pupil: blocked"), 10, ["tools", "aproved"]),
    (("default_profile: pupil", "default_profile: teachers"), 7, ["default_profile", "teachers"]),
    (("10.1.0.0/16", "10.1.0.300/16"), 6, ["profiles.pupil.subnets"]),
    (("copilot: {staff: monitor}", "copilot: {staf: monitor}"), 10, ["copilot", "staf", "profile"]),
    (("version: 1", "version: 2"), 1, ["version"]),
    (("default_status: blocked", "default_status: blocked\ncolour: red"), 9, ["colour"]),
])
def test_errors_name_line_and_field(change, line, words):
    with pytest.raises(AllowlistError) as err:
        load_allowlist(BASE.replace(*change))
    message = str(err.value)
    assert f"line {line}" in message and ";" not in message  # one problem, reported once
    for word in words:
        assert word in message


def test_yaml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(AllowlistError, match="line"):
        load_allowlist("version: 1\nprofiles: [\n")
    with pytest.raises(AllowlistError, match="expected a mapping"):
        load_allowlist("- just\n- a list\n")
    with pytest.raises(AllowlistError, match="cannot read"):
        load_allowlist(tmp_path / "missing.yaml")


def test_repo_allowlist_names_only_catalogued_tools():
    import yaml

    catalogue = yaml.safe_load((REPO / "proxy" / "catalogue.yaml").read_text())
    ids = {service["id"] for service in catalogue["services"]}
    assert set(load_allowlist(REPO / "allowlist.yaml").tools) <= ids
