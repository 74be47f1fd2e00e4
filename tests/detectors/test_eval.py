"""`pupilguard eval`: the judge counts leaks, blocks, changes and eaten words correctly, the report breaks results
down by tier, language and split without showing hold-out ids, and the engine meets the accuracy targets: issue 2's
on the first corpus's tiers, issue 9's on the new tiers (expected to fail until the engine work lands).
Behaviour targets only; nothing here measures time."""
from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from detectors import evaluate as ev

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"
_spec = importlib.util.spec_from_file_location("corpus_tiers", CORPUS / "tiers.py")
TIERS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TIERS)

# The new tiers are evaluated on a fixed stratified sample so the suite stays affordable on 2 cores: this many
# prompts of every (tier, split), chosen with a fixed seed. `pupilguard eval` measures the whole corpus.
SAMPLE_PER_TIER_AND_SPLIT = 6
# Block recall meets issue 9's target and is held to it; leak and clean-changed do not yet (issue 9 stays open),
# so those two are expected failures, reported by `pytest -ra` with their numbers, until the engine gets there.
NEW_CORPUS_XFAIL = pytest.mark.xfail(
    strict=False, reason="issue 9: leak rate and clean prompts changed are not yet at target on the new tiers")


def prompt(text: str, spans: list[tuple[str, str]], expected: str = "redact", tier: str = "c") -> ev.LabelledPrompt:
    """A labelled prompt; spans as (entity, substring), located left to right."""
    located, pos = [], 0
    for entity, value in spans:
        start = text.index(value, pos)
        located.append(ev.Span(entity, start, start + len(value), value))
        pos = start + len(value)
    return ev.LabelledPrompt("p", tier, text, expected, expected == "allow", tuple(located))


# -- the judge ---------------------------------------------------------------------------------------------

def test_redacted_name_is_not_a_leak_and_counts_as_a_true_region():
    p = prompt("Write a comment for Oliver Smith in 9K.", [("PUPIL", "Oliver Smith")])
    result = ev.judge(p, ev.Outcome("redact", "Write a comment for [PUPIL_1] in 9K."))
    assert result.leaked == [] and result.changed
    assert (result.regions, result.true_regions) == (1, 1)


def test_half_redacted_name_leaks():
    p = prompt("Write a comment for Oliver Smith in 9K.", [("PUPIL", "Oliver Smith")])
    assert ev.judge(p, ev.Outcome("redact", "Write a comment for [PUPIL_1] Smith in 9K.")).leaked == ["PUPIL"]
    assert ev.judge(p, ev.Outcome("allow", p.text)).leaked == ["PUPIL"]


def test_name_word_elsewhere_is_not_mistaken_for_the_leaked_name():
    p = prompt("Will you write a report comment for Will?", [("PUPIL", "Will")])
    p = ev.LabelledPrompt("p", "c", p.text, "redact", False, (ev.Span("PUPIL", 36, 40, "Will"),))
    assert ev.judge(p, ev.Outcome("redact", "Will you write a report comment for [PUPIL_1]?")).leaked == []
    assert ev.judge(p, ev.Outcome("redact", "[PUPIL_1] you write a report comment for Will?")).leaked == ["PUPIL"]


def test_letters_of_placeholders_never_count_as_surviving_name_letters():
    p = prompt("O'NEILL Cian\nJOHNSON Ava", [("PUPIL", "O'NEILL Cian"), ("PUPIL", "JOHNSON Ava")])
    assert ev.judge(p, ev.Outcome("redact", "[PUPIL_8]\n[PUPIL_9]")).leaked == []
    assert ev.judge(p, ev.Outcome("redact", "<PERSON>\n<PERSON>")).leaked == []
    assert ev.judge(p, ev.Outcome("redact", "[PUPIL_8]\nJOHNSON [PUPIL_9]")).leaked == ["PUPIL"]


def test_look_alike_name_normalised_but_forwarded_still_leaks():
    text = "Note for \u041eliver Smith please."  # Cyrillic O
    p = prompt(text, [("PUPIL", "\u041eliver Smith")])
    assert ev.judge(p, ev.Outcome("allow", "Note for Oliver Smith please.")).leaked == ["PUPIL"]


def test_identifier_moved_elsewhere_in_the_text_still_leaks():
    p = prompt("UPN H801200001001 for the form.", [("UK_UPN", "H801200001001")])
    assert ev.judge(p, ev.Outcome("redact", "UPN [UPN_1] for the form. H801200001001")).leaked == ["UK_UPN"]


def test_block_forwards_nothing_and_clean_change_is_counted():
    p = prompt("Write a comment for Oliver Smith.", [("PUPIL", "Oliver Smith")], expected="block")
    blocked = ev.judge(p, ev.Outcome("block", None))
    assert blocked.leaked == [] and blocked.action == "block"
    clean = prompt("Plan a lesson on Florence Nightingale.", [], expected="allow")
    changed = ev.judge(clean, ev.Outcome("redact", "Plan a lesson on [PERSON_1]."))
    assert changed.changed and (changed.regions, changed.true_regions) == (1, 0)
    assert not ev.judge(clean, ev.Outcome("allow", clean.text)).changed


def test_a_placeholder_that_eats_a_neighbouring_word_or_a_column_is_counted():
    p = prompt("Sam kicked Max in the lunch queue.", [("PUPIL", "Sam"), ("PUPIL", "Max")])
    assert ev.judge(p, ev.Outcome("redact", "[PUPIL_1] kicked [PUPIL_2] in the lunch queue.")).eaten is False
    assert ev.judge(p, ev.Outcome("redact", "[PUPIL_1] in the lunch queue.")).eaten is True
    table = prompt("Name | Subject\nOliver Smith | Biology\nZoë O'Brien | Welsh",
                   [("PUPIL", "Oliver Smith"), ("PUPIL", "Zoë O'Brien")])
    assert not ev.judge(table, ev.Outcome("redact", "Name | Subject\n[PUPIL_1] | Biology\n[PUPIL_2] | Welsh")).eaten
    assert ev.judge(table, ev.Outcome("redact", "Name | Subject\n[PUPIL_1] Biology\n[PUPIL_2] | Welsh")).eaten
    assert ev.judge(table, ev.Outcome("redact", "Name | Subject\n[PUPIL_1] | Biology\n[PUPIL_2] |")).eaten


def test_an_address_span_leaks_while_its_house_number_or_street_survives():
    p = prompt("New address: 14 Heol y Coed, Rhiwbina, Cardiff CF14 6HP.",
               [("UK_ADDRESS", "14 Heol y Coed, Rhiwbina"), ("UK_POSTCODE", "CF14 6HP")])
    whole = ev.judge(p, ev.Outcome("redact", "New address: [UK_ADDRESS_1], Cardiff [POSTCODE_1]."))
    assert whole.leaked == [] and not whole.eaten  # the post town is not part of the address
    assert ev.judge(p, ev.Outcome("redact", "New address: 14 [UK_ADDRESS_1], Cardiff [POSTCODE_1].")).leaked \
        == ["UK_ADDRESS"]


def test_metrics_of_a_system_that_forwards_everything_and_one_that_blocks_everything():
    prompts, _ = ev.load_corpus(CORPUS)
    forward = ev.run_system("forward", lambda text: ev.Outcome("allow", text), prompts)
    assert forward.overall.leak_rate == 1.0 and forward.overall.block_recall == 0.0
    assert forward.overall.clean_changed_rate == 0.0
    assert forward.by_split["holdout"].prompts >= 300 and forward.by_language[("dev", "cy")].prompts >= 100
    block = ev.run_system("block", lambda text: ev.Outcome("block", None), prompts)
    assert block.overall.leak_rate == 0.0 and block.overall.block_recall == 1.0
    assert block.overall.clean_changed_rate == 1.0
    met = ev.meets_targets(block.overall)
    assert met["block recall >= 98%"] and met["leak rate <= 1%"] and not met["clean prompts changed <= 3%"]
    issue_2 = ev.meets_targets(forward.overall, ev.ISSUE_2_TARGETS)
    assert not issue_2["no roster name, UPN or ULN leaks"] and issue_2["clean prompts changed <= 1%"]
    assert ev.holdout_misses(forward)["not blocked"] == forward.by_split["holdout"].expected_blocks


def test_select_filters_by_split_tier_and_language():
    prompts, _ = ev.load_corpus(CORPUS)
    welsh_holdout = ev.select(prompts, splits=["holdout"], languages=["cy"])
    assert welsh_holdout and all(p.split == "holdout" and p.language == "cy" for p in welsh_holdout)
    assert {p.tier for p in ev.select(prompts, tiers=["cy_special", "address_home"])} == {"cy_special", "address_home"}
    with pytest.raises(ev.CorpusError, match="no prompt matches"):
        ev.select(prompts, tiers=["no_such_tier"])


def test_bad_corpus_gives_a_clear_error(tmp_path):
    with pytest.raises(ev.CorpusError, match="missing"):
        ev.load_corpus(tmp_path)
    (tmp_path / "prompts.jsonl").write_text('{"id": 1}\n')
    (tmp_path / "roster.csv").write_text("Legal Surname,Legal Forename\nSmith,Oliver\n")
    with pytest.raises(ev.CorpusError, match="line 1"):
        ev.load_corpus(tmp_path)


# -- the engine on the corpus ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_system():
    prompts, roster_csv = ev.load_corpus(CORPUS)
    system, _engine = ev.pupilguard_system(roster_csv)
    return prompts, system


@pytest.fixture(scope="module")
def corpus_report(corpus_system):
    """The first corpus's tiers (issue 2), every prompt."""
    prompts, system = corpus_system
    return ev.run_system("pupilguard", system, [p for p in prompts if p.tier in TIERS.ORIGINAL_TIERS])


@pytest.fixture(scope="module")
def new_tiers_report(corpus_system):
    """Issue 9's tiers: a fixed stratified sample (SAMPLE_PER_TIER_AND_SPLIT of each tier and split)."""
    prompts, system = corpus_system
    strata: dict[tuple[str, str], list] = {}
    for p in prompts:
        if p.tier not in TIERS.ORIGINAL_TIERS:
            strata.setdefault((p.tier, p.split), []).append(p)
    rng = random.Random(9)
    sample = [p for key in sorted(strata) for p in rng.sample(strata[key], min(SAMPLE_PER_TIER_AND_SPLIT,
                                                                               len(strata[key])))]
    return ev.run_system("pupilguard", system, sample)


def _failing(report, predicate) -> str:
    """Dev ids, and only a count for the hold-out split (its ids are not shown so nobody tunes on them)."""
    dev = [r.id for r in report.results if r.split == "dev" and predicate(r)]
    holdout = sum(1 for r in report.results if r.split == "holdout" and predicate(r))
    return f"{dev} + {holdout} hold-out prompt(s)"


# The first corpus (issue 2): targets exactly as before, on its own tiers.

@pytest.mark.slow
@pytest.mark.e2e
def test_no_roster_name_upn_or_uln_leaks(corpus_report):
    leaked = corpus_report.zero_leak_entities_leaked
    assert leaked == 0, "roster name / UPN / ULN survived in " + _failing(
        corpus_report, lambda r: set(r.leaked) & set(ev.ZERO_LEAK_ENTITIES))


@pytest.mark.slow
@pytest.mark.e2e
def test_block_recall_at_least_99_percent(corpus_report):
    recall = corpus_report.overall.block_recall
    assert recall >= 0.99, "not blocked: " + _failing(
        corpus_report, lambda r: r.expected == "block" and r.action != "block")


@pytest.mark.slow
@pytest.mark.e2e
def test_clean_prompts_changed_at_most_1_percent(corpus_report):
    rate = corpus_report.overall.clean_changed_rate
    assert rate <= 0.01, "clean prompts changed: " + _failing(
        corpus_report, lambda r: r.expected == "allow" and r.changed)


# Issue 9's tiers: ISSUE_9_TARGETS on the hold-out split and on the whole (sampled) new corpus.

def _scope(report, scope: str) -> ev.Metrics:
    return report.by_split["holdout"] if scope == "hold-out" else report.overall


@pytest.mark.slow
@pytest.mark.e2e
def test_the_sample_covers_every_new_tier_and_both_splits(new_tiers_report):
    tiers = {tier for (_split, tier) in new_tiers_report.by_tier}
    assert tiers == set(TIERS.TIERS) - TIERS.ORIGINAL_TIERS
    assert {split for (split, _tier) in new_tiers_report.by_tier} == {"dev", "holdout"}


@pytest.mark.slow
@pytest.mark.e2e
@NEW_CORPUS_XFAIL
@pytest.mark.parametrize("scope", ["hold-out", "whole corpus"])
def test_new_tiers_leak_at_most_1_percent(new_tiers_report, scope):
    rate = _scope(new_tiers_report, scope).leak_rate
    assert rate <= ev.ISSUE_9_TARGETS.max_leak_rate, f"leak rate {rate:.1%}; dev leaks: " + _failing(
        new_tiers_report, lambda r: bool(r.leaked))


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("scope", ["hold-out", "whole corpus"])
def test_new_tiers_block_recall_at_least_98_percent(new_tiers_report, scope):
    recall = _scope(new_tiers_report, scope).block_recall
    assert recall >= ev.ISSUE_9_TARGETS.min_block_recall, f"block recall {recall:.1%}; not blocked: " + _failing(
        new_tiers_report, lambda r: r.expected == "block" and r.action != "block")


@pytest.mark.slow
@pytest.mark.e2e
@NEW_CORPUS_XFAIL
@pytest.mark.parametrize("scope", ["hold-out", "whole corpus"])
def test_new_tiers_clean_prompts_changed_at_most_3_percent(new_tiers_report, scope):
    rate = _scope(new_tiers_report, scope).clean_changed_rate
    assert rate <= ev.ISSUE_9_TARGETS.max_clean_changed, f"clean changed {rate:.1%}: " + _failing(
        new_tiers_report, lambda r: r.expected == "allow" and r.changed)


# -- the command -------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.e2e
def test_eval_command_json_on_a_small_corpus(tmp_path):
    lines = [line for line in (CORPUS / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
             if '"report_comment-00' in line or '"teaching_request-00' in line][:6]
    lines += [line for line in (CORPUS / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
              if '"cy_special-holdout-00' in line][:3]
    (tmp_path / "prompts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "roster.csv").write_bytes((CORPUS / "roster.csv").read_bytes())
    run = subprocess.run([sys.executable, "-m", "detectors.cli", "eval", "--corpus", str(tmp_path), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)
    names = [s["system"] for s in out["systems"]]
    assert names == ["pupilguard", "stock Presidio"]
    pupilguard, presidio = out["systems"]
    assert set(pupilguard["by_split"]) == {"dev", "holdout"}
    assert set(pupilguard["by_tier"]) == {f"{r['split']}/{r['tier']}" for r in map(json.loads, lines)}
    assert set(pupilguard["by_language"]) == {"dev/en", "holdout/cy"}
    assert presidio["overall"]["prompts"] == 9 and presidio["by_split"]["holdout"]["blocked_expected"] == 0
    assert presidio["holdout_misses"]["not blocked"] == 3  # Presidio never blocks
    assert all(f["split"] == "dev" for s in out["systems"] for f in s["failures"])  # no hold-out ids
    assert set(out["targets"]["pupilguard"]) == {"whole corpus", "hold-out"}
    assert set(out["targets"]["pupilguard"]["hold-out"]) == {"leak rate <= 1%", "block recall >= 98%",
                                                             "clean prompts changed <= 3%"}
    texts = [json.loads(line)["text"] for line in lines]
    assert not any(t[:40] in run.stdout for t in texts), "eval output must not carry prompt text"


@pytest.mark.slow
@pytest.mark.e2e
def test_eval_command_tables_filter_and_keep_holdout_ids_out(tmp_path):
    run = subprocess.run([sys.executable, "-m", "detectors.cli", "eval", "--no-baseline", "--failures",
                          "--tier", "cy_special", "--tier", "address_home"],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    for title in ("Overall", "Per tier, dev", "Per tier, hold-out", "Per language, dev", "Per language, hold-out",
                  "Hold-out misses by kind", "Failures (pupilguard, dev split)"):
        assert title in run.stdout
    assert "cy_special" in run.stdout and "report_comment" not in run.stdout
    assert "-holdout-" not in run.stdout, "hold-out prompt ids must never be shown"


@pytest.mark.e2e
def test_eval_command_filter_that_matches_nothing_is_a_one_line_error():
    run = subprocess.run([sys.executable, "-m", "detectors.cli", "eval", "--no-baseline", "--tier", "nope"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "no prompt matches" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.e2e
def test_eval_command_missing_corpus_is_a_one_line_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "detectors.cli", "eval", "--corpus", str(tmp_path / "nope"),
                          "--no-baseline"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("pupilguard eval: error: corpus file missing")
    assert "Traceback" not in run.stderr
