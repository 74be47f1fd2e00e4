"""`pupilguard eval`: the judge counts leaks, blocks and changes correctly, and the engine meets the issue's
accuracy targets on the labelled corpus (behaviour targets; nothing here measures time)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from detectors import evaluate as ev

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"


def prompt(text: str, spans: list[tuple[str, str]], expected: str = "redact", category: str = "c") -> ev.LabelledPrompt:
    """A labelled prompt; spans as (entity, substring), located left to right."""
    located, pos = [], 0
    for entity, value in spans:
        start = text.index(value, pos)
        located.append(ev.Span(entity, start, start + len(value), value))
        pos = start + len(value)
    return ev.LabelledPrompt("p", category, text, expected, expected == "allow", tuple(located))


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


def test_metrics_of_a_system_that_forwards_everything_and_one_that_blocks_everything():
    prompts, _ = ev.load_corpus(CORPUS)
    forward = ev.run_system("forward", lambda text: ev.Outcome("allow", text), prompts)
    assert forward.overall.leak_rate == 1.0 and forward.overall.block_recall == 0.0
    assert forward.overall.clean_changed_rate == 0.0
    block = ev.run_system("block", lambda text: ev.Outcome("block", None), prompts)
    assert block.overall.leak_rate == 0.0 and block.overall.block_recall == 1.0
    assert block.overall.clean_changed_rate == 1.0
    assert ev.meets_targets(block)["block recall >= 99%"] and not ev.meets_targets(block)["clean prompts changed <= 1%"]


def test_bad_corpus_gives_a_clear_error(tmp_path):
    with pytest.raises(ev.CorpusError, match="missing"):
        ev.load_corpus(tmp_path)
    (tmp_path / "prompts.jsonl").write_text('{"id": 1}\n')
    (tmp_path / "roster.csv").write_text("Legal Surname,Legal Forename\nSmith,Oliver\n")
    with pytest.raises(ev.CorpusError, match="line 1"):
        ev.load_corpus(tmp_path)


# -- the engine on the corpus ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_report():
    prompts, roster_csv = ev.load_corpus(CORPUS)
    system, _engine = ev.pupilguard_system(roster_csv)
    return ev.run_system("pupilguard", system, prompts)


def _failing(report, predicate) -> str:
    """Dev ids, and only a count for the hold-out split (its ids are not shown so nobody tunes on them)."""
    dev = [r.id for r in report.results if r.split == "dev" and predicate(r)]
    holdout = sum(1 for r in report.results if r.split == "holdout" and predicate(r))
    return f"{dev} + {holdout} hold-out prompt(s)"


@pytest.mark.slow
def test_no_roster_name_upn_or_uln_leaks(corpus_report):
    leaked = corpus_report.zero_leak_entities_leaked
    assert leaked == 0, "roster name / UPN / ULN survived in " + _failing(
        corpus_report, lambda r: set(r.leaked) & set(ev.ZERO_LEAK_ENTITIES))


@pytest.mark.slow
def test_block_recall_at_least_99_percent(corpus_report):
    recall = corpus_report.overall.block_recall
    assert recall >= 0.99, "not blocked: " + _failing(
        corpus_report, lambda r: r.expected == "block" and r.action != "block")


@pytest.mark.slow
def test_clean_prompts_changed_at_most_1_percent(corpus_report):
    rate = corpus_report.overall.clean_changed_rate
    assert rate <= 0.01, "clean prompts changed: " + _failing(
        corpus_report, lambda r: r.expected == "allow" and r.changed)


# -- the command -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_eval_command_json_on_a_small_corpus(tmp_path):
    lines = [line for line in (CORPUS / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
             if '"report_comment-00' in line or '"teaching_request-00' in line][:6]
    (tmp_path / "prompts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "roster.csv").write_bytes((CORPUS / "roster.csv").read_bytes())
    run = subprocess.run([sys.executable, "-m", "detectors.cli", "eval", "--corpus", str(tmp_path), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)
    names = [s["system"] for s in out["systems"]]
    assert names == ["pupilguard", "stock Presidio"]
    assert set(out["systems"][0]["by_split"]) == {"dev"}
    presidio = out["systems"][1]["overall"]
    assert presidio["prompts"] == 6 and presidio["block_recall"] is None  # no expected blocks in this slice
    assert set(out["targets"]["pupilguard"]) == {"no roster name, UPN or ULN leaks", "block recall >= 99%",
                                                 "clean prompts changed <= 1%"}
    texts = [json.loads(line)["text"] for line in lines]
    assert not any(t[:40] in run.stdout for t in texts), "eval output must not carry prompt text"


def test_eval_command_missing_corpus_is_a_one_line_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "detectors.cli", "eval", "--corpus", str(tmp_path / "nope"),
                          "--no-baseline"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("pupilguard eval: error: corpus file missing")
    assert "Traceback" not in run.stderr
