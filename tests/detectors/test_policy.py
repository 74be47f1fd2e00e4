"""The policy file: default = detectors/data/policy.yaml, per-profile and per-tool overrides, clear errors."""
import pytest

from detectors.policy import IDENTIFIERS, SPECIAL_SUBTYPES, PolicyError, default_policy, load_policy

OVERRIDES = """version: 1
default:
  deny_terms: {SAFEGUARDING: [Operation Encompass]}
  allow_terms: [Ofsted]
profiles:
  pupil:
    entities: {PUPIL: block, UK_UPN: block}
    deny_terms: {SAFEGUARDING: [early help]}
tools:
  copilot:
    mode: monitor
    score_threshold: 0.7
    allow_terms: [Mr Men]
"""


def test_default_is_design_md():
    rules = default_policy().resolve()
    assert rules.mode == "enforce"
    assert all(rules.action_for(e) == "redact" for e in IDENTIFIERS)      # every identifier is redacted
    assert rules.special_category == "block_with_identifier"                # special + identifier -> block
    assert set(rules.special_subtypes) == set(SPECIAL_SUBTYPES)
    assert {"PUPIL", "UK_UPN", "UK_ULN", "DATE_OF_BIRTH", "PERSON"} <= set(rules.identifiers_for_special)
    assert load_policy(None) is default_policy()


def test_resolution_order_default_profile_tool():
    policy = load_policy(OVERRIDES)
    base = policy.resolve()
    assert base.action_for("PUPIL") == "redact" and base.mode == "enforce"
    pupil = policy.resolve(profile="pupil")
    assert pupil.action_for("PUPIL") == "block" and pupil.action_for("PERSON") == "redact"   # maps merge per key
    assert pupil.deny_terms["SAFEGUARDING"] == ("Operation Encompass", "early help")          # terms add up
    both = policy.resolve(tool="copilot", profile="pupil")
    assert both.mode == "monitor" and both.score_threshold == 0.7 and both.action_for("UK_UPN") == "block"
    assert both.allowed_values == {"ofsted", "mr men"}
    assert policy.resolve(tool="unknown", profile="unknown") == base


def test_deny_pattern_is_whole_word_case_insensitive_and_names_subtype():
    rules = load_policy(OVERRIDES).resolve(profile="pupil")
    hits = [(m.group(0), m.lastgroup) for m in rules.deny_pattern.finditer(
        "An OPERATION ENCOMPASS call; early helpers; Early Help plan")]
    assert hits == [("OPERATION ENCOMPASS", "SAFEGUARDING"), ("Early Help", "SAFEGUARDING")]


@pytest.mark.parametrize("text, words", [
    ("version: 1\ndefault:\n  entities: {PUPILS: redact}\n", ["line 3", "default.entities", "PUPILS", "PUPIL"]),
    ("version: 1\nprofiles:\n  pupil:\n    score_threshold: 1.5\n", ["line 4", "profiles.pupil.score_threshold"]),
    ("version: 1\ntools:\n  copilot: {mode: log}\n", ["line 3", "tools.copilot.mode", "enforce", "monitor"]),
    ("version: 1\ndefault:\n  entities: {PUPIL: mask}\n", ["line 3", "default.entities.PUPIL", "redact"]),
    ("version: 1\ndefault:\n  deny_terms: {HOBBIES: [chess]}\n", ["line 3", "HOBBIES", "SAFEGUARDING"]),
    ("version: 1\ndefault:\n  special: block\n", ["line 3", "default.special", "Extra inputs"]),
    ("version: 3\n", ["line 1", "version"]),
    ("version: 1\ndefault: [\n", ["line"]),
    ("just text\n", ["expected a mapping"]),
])
def test_errors_name_the_key_and_line(text, words):
    with pytest.raises(PolicyError) as err:
        load_policy(text)
    for word in words:
        assert word in str(err.value)


def test_policy_file_path(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(OVERRIDES)
    assert load_policy(path).resolve(tool="copilot").mode == "monitor"
    assert load_policy(str(path)).resolve(tool="copilot").mode == "monitor"
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_relied_on_entities():
    rules = load_policy("version: 1\nacknowledge_special_category_unredacted: true\n"
                        "default:\n  entities: {PERSON: ignore}\n  special_category: allow\n"
                        "  identifiers_for_special: []\n").resolve()
    assert "PERSON" not in rules.relied_on and "SPECIAL_CATEGORY" not in rules.relied_on
    assert "SPECIAL_CATEGORY" in default_policy().resolve().relied_on


@pytest.mark.parametrize("weakening, named", [
    ("default:\n  special_category: allow\n", "special_category: allow (default)"),
    ("tools:\n  copilot: {entities: {PUPIL: ignore}}\n", "entities ignored: PUPIL (tool copilot)"),
    ("profiles:\n  staff: {identifiers_for_special: [%s]}\n" % ", ".join(e for e in IDENTIFIERS if e != "PUPIL"),
     "identifiers_for_special leaves out PUPIL (profile staff)"),
])
def test_a_policy_letting_special_category_data_about_a_pupil_out_needs_an_acknowledgement(weakening, named):
    with pytest.raises(PolicyError, match="special-category data about a pupil leave unredacted") as refused:
        load_policy("version: 1\n" + weakening)
    assert named in str(refused.value) and "acknowledge_special_category_unredacted: true" in str(refused.value)
    acknowledged = load_policy("version: 1\nacknowledge_special_category_unredacted: true\n" + weakening)
    assert acknowledged.acknowledge_special_category_unredacted
    # monitor, and blocking more, weaken nothing: no acknowledgement needed
    load_policy("version: 1\ndefault: {mode: monitor, special_category: block}\ntools:\n  copilot: {mode: monitor}\n")
