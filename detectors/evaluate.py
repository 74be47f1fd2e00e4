"""Accuracy evaluation on a labelled prompt corpus: pupilguard against stock Presidio, per category.

A corpus directory holds `prompts.jsonl` (one labelled prompt a line: id, category, text, expected action
allow/redact/block, clean flag, and the identifier spans that must not survive) and `roster.csv` (a synthetic
MIS export). See bench/corpus/README.md for the labelling rules.

Measures, per system (what each would forward to the AI tool):
- leak rate: prompts with a labelled identifier of which any survives in the forwarded text (a blocked prompt
  forwards nothing). A span survives when one of its word tokens is still in the forwarded text at the aligned
  position (character alignment of original and forwarded text), or, for a multi-word or numeric identifier,
  when its exact text appears anywhere in the forwarded text;
- block recall: expected blocks that were blocked; over-blocked: other prompts that were blocked;
- clean changed: clean prompts whose forwarded text differs from the original, or which were blocked;
- redaction precision: changed regions of forwarded (non-blocked) prompts that overlap a labelled span.

Stock Presidio is the default AnalyzerEngine (default recognisers, the same spaCy model) with every finding
replaced by <ENTITY_TYPE>; it never blocks. Nothing here prints or returns prompt text: results carry ids,
categories, entity types and counts only.
"""
from __future__ import annotations

import json
import math
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

__all__ = [
    "CorpusError", "LabelledPrompt", "Outcome", "PromptResult", "Span", "SystemReport",
    "evaluate", "failures_table", "judge", "load_corpus", "meets_targets", "pupilguard_system", "run_system",
    "stock_presidio_system", "tables", "to_json",
]

TARGETS = {"name_upn_uln_leaks": 0, "block_recall": 0.99, "clean_changed": 0.01}
# Entities whose every leak the targets forbid.
ZERO_LEAK_ENTITIES = ("PUPIL", "UK_UPN", "UK_ULN")
_TOKEN = re.compile(r"[^\W_]+")


class CorpusError(ValueError):
    """The corpus directory or one of its lines is unusable."""


@dataclass(frozen=True, slots=True)
class Span:
    entity: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class LabelledPrompt:
    id: str
    category: str
    text: str
    expected: str  # allow | redact | block
    clean: bool
    spans: tuple[Span, ...]
    split: str = "dev"  # "holdout": written after the engine was tuned on "dev"; never tune on it


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a system did with one prompt."""

    action: str  # allow | redact | block
    forwarded: str | None  # None when blocked
    elapsed_ms: float = 0.0


@dataclass(slots=True)
class PromptResult:
    id: str
    category: str
    split: str
    expected: str
    action: str
    leaked: list[str]  # entity types of the labelled spans that survived
    changed: bool  # forwarded text differs from the original, or blocked
    regions: int  # changed regions in the forwarded text
    true_regions: int  # ... of which overlap a labelled span


@dataclass(slots=True)
class Metrics:
    prompts: int = 0
    with_identifiers: int = 0
    leaking: int = 0
    expected_blocks: int = 0
    blocked_expected: int = 0
    not_block_expected: int = 0
    over_blocked: int = 0
    clean: int = 0
    clean_changed: int = 0
    regions: int = 0
    true_regions: int = 0
    action_agrees: int = 0

    def add(self, prompt: LabelledPrompt, result: PromptResult) -> None:
        self.prompts += 1
        self.action_agrees += result.action == prompt.expected
        if prompt.spans:
            self.with_identifiers += 1
            self.leaking += bool(result.leaked)
        if prompt.expected == "block":
            self.expected_blocks += 1
            self.blocked_expected += result.action == "block"
        else:
            self.not_block_expected += 1
            self.over_blocked += result.action == "block"
        if prompt.clean:
            self.clean += 1
            self.clean_changed += result.changed
        self.regions += result.regions
        self.true_regions += result.true_regions

    @staticmethod
    def _ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    @property
    def leak_rate(self) -> float | None:
        return self._ratio(self.leaking, self.with_identifiers)

    @property
    def block_recall(self) -> float | None:
        return self._ratio(self.blocked_expected, self.expected_blocks)

    @property
    def over_block_rate(self) -> float | None:
        return self._ratio(self.over_blocked, self.not_block_expected)

    @property
    def clean_changed_rate(self) -> float | None:
        return self._ratio(self.clean_changed, self.clean)

    @property
    def precision(self) -> float | None:
        return self._ratio(self.true_regions, self.regions)

    @property
    def action_accuracy(self) -> float | None:
        return self._ratio(self.action_agrees, self.prompts)

    def as_dict(self) -> dict:
        return {**asdict(self), "leak_rate": self.leak_rate, "block_recall": self.block_recall,
                "over_block_rate": self.over_block_rate, "clean_changed_rate": self.clean_changed_rate,
                "precision": self.precision, "action_accuracy": self.action_accuracy}


@dataclass(slots=True)
class SystemReport:
    name: str
    overall: Metrics = field(default_factory=Metrics)
    by_category: dict[str, Metrics] = field(default_factory=lambda: defaultdict(Metrics))
    by_split: dict[str, Metrics] = field(default_factory=lambda: defaultdict(Metrics))
    spans_by_entity: Counter = field(default_factory=Counter)
    leaks_by_entity: Counter = field(default_factory=Counter)
    results: list[PromptResult] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def zero_leak_entities_leaked(self) -> int:
        return sum(self.leaks_by_entity[e] for e in ZERO_LEAK_ENTITIES)

    def failures(self, split: str | None = None) -> list[PromptResult]:
        """Prompts that leaked, were not blocked when they should be, were blocked when they should not be,
        or (clean) were changed; of one split if given."""
        return [r for r in self.results
                if (split is None or r.split == split)
                and (r.leaked or (r.expected == "block") != (r.action == "block")
                     or (r.expected == "allow" and r.changed))]

    def as_dict(self) -> dict:
        lat = sorted(self.latencies_ms)
        return {
            "system": self.name,
            "overall": self.overall.as_dict(),
            "by_category": {c: m.as_dict() for c, m in sorted(self.by_category.items())},
            "by_split": {c: m.as_dict() for c, m in sorted(self.by_split.items())},
            "spans_by_entity": dict(sorted(self.spans_by_entity.items())),
            "leaks_by_entity": dict(sorted(self.leaks_by_entity.items())),
            "median_ms": lat[len(lat) // 2] if lat else None,
            # Hold-out failures are counted, not listed: listing them would invite tuning on them.
            "failures": [asdict(r) for r in self.failures("dev")],
            "holdout_failures": len(self.failures("holdout")),
        }


# -- corpus ------------------------------------------------------------------------------------------------

def load_corpus(directory: str | Path) -> tuple[list[LabelledPrompt], Path]:
    """The labelled prompts and the path of the roster CSV of a corpus directory."""
    directory = Path(directory)
    prompts_path, roster_path = directory / "prompts.jsonl", directory / "roster.csv"
    for path in (prompts_path, roster_path):
        if not path.is_file():
            raise CorpusError(f"corpus file missing: {path}")
    prompts: list[LabelledPrompt] = []
    with open(prompts_path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                spans = tuple(Span(s["entity"], int(s["start"]), int(s["end"]), s["text"]) for s in raw["spans"])
                prompt = LabelledPrompt(str(raw["id"]), raw["category"], raw["text"], raw["expected"],
                                        bool(raw["clean"]), spans, raw.get("split", "dev"))
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError(f"{prompts_path.name} line {lineno}: not a labelled prompt ({exc})") from None
            if prompt.expected not in ("allow", "redact", "block"):
                raise CorpusError(f"{prompts_path.name} line {lineno}: unknown expected action")
            prompts.append(prompt)
    if not prompts:
        raise CorpusError(f"{prompts_path} holds no prompts")
    return prompts, roster_path


# -- judging one outcome -----------------------------------------------------------------------------------

# Placeholders of pupilguard ("[PUPIL_1]") and of Presidio's replace operator ("<PERSON>"): letters inside them
# are the system's, never the original's ("O'NEILL" must not count as surviving in "[PUPIL_8]").
_PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]|<[A-Z_]+>")


def _preserved(original: str, forwarded: str) -> tuple[list[int], list[tuple[int, int]]]:
    """For each character of the original, the id (1, 2, ...) of the aligned block that keeps it in the forwarded
    text, or 0; and the changed regions (original offsets)."""
    matcher = SequenceMatcher(None, original, forwarded, autojunk=False)
    in_placeholder = bytearray(len(forwarded))
    for m in _PLACEHOLDER.finditer(forwarded):
        in_placeholder[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    kept = [0] * len(original)
    regions: list[tuple[int, int]] = []
    for block, (tag, i1, i2, j1, _j2) in enumerate(matcher.get_opcodes(), start=1):
        if tag == "equal":
            for offset in range(i2 - i1):
                if not in_placeholder[j1 + offset]:
                    kept[i1 + offset] = block
        elif regions and i1 - regions[-1][1] <= 2:  # one replacement split by a coincidental match
            regions[-1] = (regions[-1][0], i2)
        else:
            regions.append((i1, i2))
    return kept, regions


def _span_survives(span: Span, kept: list[int], forwarded: str) -> bool:
    for token in _TOKEN.finditer(span.text):
        if len(token.group()) < 2:
            continue
        start, end = span.start + token.start(), span.start + token.end()
        run = best = 0
        previous = 0
        for block in kept[start:end]:
            run = run + 1 if block and block == previous else (1 if block else 0)
            previous = block
            best = max(best, run)
        if best >= max(2, math.ceil(0.6 * (end - start))):
            return True
    # Unambiguous values are also looked for anywhere (a single word like "Will" is not: it may be a word).
    if len(_TOKEN.findall(span.text)) > 1 or any(ch.isdigit() for ch in span.text):
        return span.text in forwarded
    return False


def _overlaps(region: tuple[int, int], span: Span) -> bool:
    a, b = region
    if a == b:  # text inserted at one point
        return span.start <= a <= span.end
    return a < span.end and span.start < b


def judge(prompt: LabelledPrompt, outcome: Outcome) -> PromptResult:
    if outcome.action == "block" or outcome.forwarded is None:
        return PromptResult(prompt.id, prompt.category, prompt.split, prompt.expected, "block", [], True, 0, 0)
    forwarded = outcome.forwarded
    if forwarded == prompt.text:
        leaked = [s.entity for s in prompt.spans]
        return PromptResult(prompt.id, prompt.category, prompt.split, prompt.expected, outcome.action, leaked, False,
                            0, 0)
    kept, regions = _preserved(prompt.text, forwarded)
    leaked = [s.entity for s in prompt.spans if _span_survives(s, kept, forwarded)]
    true_regions = sum(any(_overlaps(region, s) for s in prompt.spans) for region in regions)
    return PromptResult(prompt.id, prompt.category, prompt.split, prompt.expected, outcome.action, leaked, True,
                        len(regions), true_regions)


# -- systems -----------------------------------------------------------------------------------------------

System = Callable[[str], Outcome]


def pupilguard_system(roster_csv: str | Path | None, model: str | None = None, policy=None) -> tuple[System, object]:
    """The pupilguard engine with the corpus roster imported under a throw-away key. Returns (system, engine)."""
    from detectors.engine import Engine
    from detectors.mis_import import import_mis_csv
    from detectors.roster import Roster, RosterKey

    roster = None
    if roster_csv is not None:
        key = RosterKey.generate()
        with tempfile.TemporaryDirectory(prefix="pupilguard-eval-") as tmp:
            out = Path(tmp) / "roster.pgr"
            import_mis_csv(roster_csv, out, key)
            roster = Roster.load(out, key)
    engine = Engine(policy=policy, roster=roster, model=model)

    def run(text: str) -> Outcome:
        decision = engine.scan([text])
        forwarded = None if decision.action == "block" or decision.texts is None else decision.texts[0]
        return Outcome(decision.action, forwarded, decision.elapsed_ms)

    return run, engine


def stock_presidio_system(model: str) -> System:
    """Presidio as shipped: default recognisers, the given spaCy model, every finding replaced by <ENTITY>."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_anonymizer import AnonymizerEngine

    nlp_engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    nlp_engine.load()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    anonymizer = AnonymizerEngine()

    def run(text: str) -> Outcome:
        started = time.perf_counter()
        results = analyzer.analyze(text, language="en")
        forwarded = anonymizer.anonymize(text, results).text if results else text
        action = "redact" if forwarded != text else "allow"
        return Outcome(action, forwarded, (time.perf_counter() - started) * 1000)

    return run


# -- evaluation --------------------------------------------------------------------------------------------

def run_system(name: str, system: System, prompts: Sequence[LabelledPrompt],
               progress: Callable[[], None] | None = None) -> SystemReport:
    report = SystemReport(name)
    for prompt in prompts:
        outcome = system(prompt.text)
        result = judge(prompt, outcome)
        report.results.append(result)
        report.latencies_ms.append(outcome.elapsed_ms)
        report.overall.add(prompt, result)
        report.by_category[prompt.category].add(prompt, result)
        report.by_split[prompt.split].add(prompt, result)
        report.spans_by_entity.update(s.entity for s in prompt.spans)
        report.leaks_by_entity.update(result.leaked)
        if progress:
            progress()
    return report


def evaluate(corpus: str | Path, model: str | None = None, baseline: bool = True,
             progress_factory: Callable[[str, int], Callable[[], None]] | None = None) -> list[SystemReport]:
    """Run pupilguard (and stock Presidio unless baseline=False) over the corpus; one report per system."""
    prompts, roster_csv = load_corpus(corpus)
    system, engine = pupilguard_system(roster_csv, model)
    reports = [run_system("pupilguard", system, prompts,
                          progress_factory("pupilguard", len(prompts)) if progress_factory else None)]
    if baseline:
        presidio = stock_presidio_system(engine.model)
        reports.append(run_system("stock Presidio", presidio, prompts,
                                  progress_factory("stock Presidio", len(prompts)) if progress_factory else None))
    return reports


def meets_targets(report: SystemReport) -> dict[str, bool]:
    overall = report.overall
    return {
        "no roster name, UPN or ULN leaks": report.zero_leak_entities_leaked == TARGETS["name_upn_uln_leaks"],
        "block recall >= 99%": (overall.block_recall or 0.0) >= TARGETS["block_recall"],
        "clean prompts changed <= 1%": (overall.clean_changed_rate or 0.0) <= TARGETS["clean_changed"],
    }


def to_json(reports: Iterable[SystemReport]) -> str:
    reports = list(reports)
    return json.dumps({"systems": [r.as_dict() for r in reports],
                       "targets": {r.name: meets_targets(r) for r in reports}}, indent=2)


# -- presentation ------------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def tables(reports: Sequence[SystemReport]) -> list:
    """Rich tables: overall side by side, per category, leaks per entity type, targets."""
    from rich.table import Table

    names = [r.name for r in reports]
    overall = Table(title="Overall", title_justify="left")
    overall.add_column("metric")
    for name in names:
        overall.add_column(name, justify="right")
    overall.add_column("target", justify="right")
    rows = [
        ("prompts", lambda m: str(m.prompts), ""),
        ("leak rate (prompts with identifiers)", lambda m: f"{_pct(m.leak_rate)} ({m.leaking}/{m.with_identifiers})", ""),
        ("block recall", lambda m: f"{_pct(m.block_recall)} ({m.blocked_expected}/{m.expected_blocks})", ">= 99%"),
        ("over-blocked (not expected block)", lambda m: f"{_pct(m.over_block_rate)} ({m.over_blocked}/{m.not_block_expected})", ""),
        ("clean prompts changed", lambda m: f"{_pct(m.clean_changed_rate)} ({m.clean_changed}/{m.clean})", "<= 1%"),
        ("redaction precision (regions)", lambda m: f"{_pct(m.precision)} ({m.true_regions}/{m.regions})", ""),
        ("action as labelled", lambda m: _pct(m.action_accuracy), ""),
    ]
    for label, cell, target in rows:
        overall.add_row(label, *(cell(r.overall) for r in reports), target)
    overall.add_row("roster name / UPN / ULN spans leaked", *(str(r.zero_leak_entities_leaked) for r in reports), "0")
    overall.add_row("median scan ms", *(f"{r.as_dict()['median_ms']:.1f}" for r in reports), "")

    per_cat = Table(title="Per category (pupilguard / stock Presidio)", title_justify="left")
    for col in ("category", "n", "leak rate", "block recall", "over-blocked", "clean changed", "precision"):
        per_cat.add_column(col, justify="left" if col == "category" else "right")
    categories = sorted(reports[0].by_category)
    for cat in categories:
        ms = [r.by_category[cat] for r in reports]
        per_cat.add_row(cat, str(ms[0].prompts),
                        *(" / ".join(_pct(getattr(m, attr)) for m in ms)
                          for attr in ("leak_rate", "block_recall", "over_block_rate", "clean_changed_rate",
                                       "precision")))

    per_split = Table(title="Dev / hold-out split (pupilguard / stock Presidio)", title_justify="left")
    for col in ("split", "n", "leak rate", "block recall", "over-blocked", "clean changed", "precision"):
        per_split.add_column(col, justify="left" if col == "split" else "right")
    for split in sorted(reports[0].by_split):
        ms = [r.by_split[split] for r in reports]
        per_split.add_row(split, str(ms[0].prompts),
                          *(" / ".join(_pct(getattr(m, attr)) for m in ms)
                            for attr in ("leak_rate", "block_recall", "over_block_rate", "clean_changed_rate",
                                         "precision")))

    per_entity = Table(title="Labelled spans leaked, by entity type", title_justify="left")
    per_entity.add_column("entity")
    per_entity.add_column("spans", justify="right")
    for name in names:
        per_entity.add_column(name, justify="right")
    for entity, count in sorted(reports[0].spans_by_entity.items()):
        per_entity.add_row(entity, str(count), *(str(r.leaks_by_entity[entity]) for r in reports))

    targets = Table(title="Targets (pupilguard)", title_justify="left")
    targets.add_column("target")
    targets.add_column("met")
    for label, ok in meets_targets(reports[0]).items():
        targets.add_row(label, "[green]yes[/green]" if ok else "[red]NO[/red]")
    return [overall, per_split, per_cat, per_entity, targets]


def failures_table(report: SystemReport):
    """Ids and kinds of miss only, never text."""
    from rich.table import Table

    holdout = len(report.failures("holdout"))
    table = Table(title=f"Failures ({report.name}, dev split)", title_justify="left",
                  caption=f"hold-out failures: {holdout} (not listed, so nobody tunes on them)" if holdout else None)
    for col in ("id", "expected", "got", "leaked entity types", "clean changed"):
        table.add_column(col)
    for r in report.failures("dev"):
        table.add_row(r.id, r.expected, r.action, ", ".join(sorted(set(r.leaked))),
                      "yes" if r.expected == "allow" and r.changed else "")
    return table
