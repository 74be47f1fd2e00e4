"""Accuracy evaluation on a labelled prompt corpus: pupilguard against stock Presidio, per tier, per language and
per split (dev / hold-out).

A corpus directory holds `prompts.jsonl` (one labelled prompt a line: id, tier, split, language, text, expected
action allow/redact/block, clean flag, and the identifier spans that must not survive) and `roster.csv` (a
synthetic MIS export). See bench/corpus/README.md for the labelling rules.

Measures, per system (what each would forward to the AI tool):
- leak rate: prompts with a labelled identifier of which any survives in the forwarded text (a blocked prompt
  forwards nothing). A span survives when one of its word tokens is still in the forwarded text at the aligned
  position (character alignment of original and forwarded text), or, for a multi-word or numeric identifier,
  when its exact text appears anywhere in the forwarded text;
- block recall: expected blocks that were blocked; over-blocked: other prompts that were blocked;
- clean changed: clean prompts whose forwarded text differs from the original, or which were blocked;
- redaction precision: changed regions of forwarded (non-blocked) prompts that overlap a labelled span;
- words eaten: forwarded, changed prompts in which a word outside every labelled span, or a line break or table
  delimiter (| , tab), was removed (a placeholder must replace exactly the identifier; tables keep their shape).

Stock Presidio is the default AnalyzerEngine (default recognisers, the same spaCy model) with every finding
replaced by <ENTITY_TYPE>; it never blocks. Nothing here prints or returns prompt text: results carry ids,
tiers, entity types and counts only; hold-out results are shown only as counts and kinds of miss.

(Over 350 lines on purpose: loading, scoring and reporting share one metric vocabulary; the report must
print exactly what was scored.)
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
    "ISSUE_2_TARGETS", "ISSUE_9_TARGETS", "CorpusError", "LabelledPrompt", "Metrics", "Outcome", "PromptResult",
    "Span", "SystemReport", "Targets", "evaluate", "failures_table", "holdout_misses", "holdout_misses_table", "judge",
    "load_corpus", "miss_kinds",
    "meets_targets", "pupilguard_system", "run_system", "select", "stock_presidio_system", "tables", "to_json",
]

# Entities whose every leak the issue-2 targets forbid.
ZERO_LEAK_ENTITIES = ("PUPIL", "UK_UPN", "UK_ULN")
_TOKEN = re.compile(r"[^\W_]+")
# Characters that hold a table or list together: a redaction must not remove any outside a labelled span.
_STRUCTURE = ("\n", "|", "\t", ",")


@dataclass(frozen=True, slots=True)
class Targets:
    """Accuracy targets; a None bound is not part of the target."""

    name: str
    min_block_recall: float
    max_clean_changed: float
    max_leak_rate: float | None = None
    max_zero_leak_entity_leaks: int | None = None  # PUPIL, UK_UPN, UK_ULN spans that survived


# The first corpus (issue 2), held on its own tiers: no roster name / UPN / ULN leaks at all.
ISSUE_2_TARGETS = Targets("issue 2", min_block_recall=0.99, max_clean_changed=0.01, max_zero_leak_entity_leaks=0)
# Issue 9, held on the hold-out split and on the whole corpus.
ISSUE_9_TARGETS = Targets("issue 9", min_block_recall=0.98, max_clean_changed=0.03, max_leak_rate=0.01)


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
    tier: str
    text: str
    expected: str  # allow | redact | block
    clean: bool
    spans: tuple[Span, ...]
    split: str = "dev"  # "holdout": written before the engine was tuned on "dev"; never tune on it
    language: str = "en"  # ISO 639-1 code, or "mixed"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a system did with one prompt."""

    action: str  # allow | redact | block
    forwarded: str | None  # None when blocked
    elapsed_ms: float = 0.0


@dataclass(slots=True)
class PromptResult:
    id: str
    tier: str
    split: str
    language: str
    expected: str
    action: str
    leaked: list[str]  # entity types of the labelled spans that survived
    changed: bool  # forwarded text differs from the original, or blocked
    regions: int  # changed regions in the forwarded text
    true_regions: int  # ... of which overlap a labelled span
    eaten: bool = False  # a word outside the labelled spans, or a table delimiter, was removed


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
    forwarded_changed: int = 0  # prompts with identifiers forwarded with changes ...
    eaten: int = 0  # ... of which lost a word outside the labelled spans, or a table delimiter
    entity_leaks: Counter = field(default_factory=Counter)

    def add(self, prompt: LabelledPrompt, result: PromptResult) -> None:
        self.prompts += 1
        self.entity_leaks.update(result.leaked)
        if prompt.spans and result.action != "block" and result.changed:  # clean prompts: see clean_changed
            self.forwarded_changed += 1
            self.eaten += result.eaten
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

    @property
    def eaten_rate(self) -> float | None:
        return self._ratio(self.eaten, self.forwarded_changed)

    @property
    def zero_leak_entity_leaks(self) -> int:
        return sum(self.entity_leaks[e] for e in ZERO_LEAK_ENTITIES)

    def as_dict(self) -> dict:
        return {**asdict(self), "entity_leaks": dict(sorted(self.entity_leaks.items())),
                "leak_rate": self.leak_rate, "block_recall": self.block_recall,
                "over_block_rate": self.over_block_rate, "clean_changed_rate": self.clean_changed_rate,
                "precision": self.precision, "action_accuracy": self.action_accuracy, "eaten_rate": self.eaten_rate}


def _metrics_by() -> dict[str, Metrics]:
    return defaultdict(Metrics)


@dataclass(slots=True)
class SystemReport:
    name: str
    overall: Metrics = field(default_factory=Metrics)
    by_split: dict[str, Metrics] = field(default_factory=_metrics_by)
    # keyed by (split, tier) and (split, language): every table shows dev and hold-out apart
    by_tier: dict[tuple[str, str], Metrics] = field(default_factory=_metrics_by)
    by_language: dict[tuple[str, str], Metrics] = field(default_factory=_metrics_by)
    spans_by_entity: Counter = field(default_factory=Counter)
    results: list[PromptResult] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def leaks_by_entity(self) -> Counter:
        return self.overall.entity_leaks

    @property
    def zero_leak_entities_leaked(self) -> int:
        return self.overall.zero_leak_entity_leaks

    def failures(self, split: str | None = None) -> list[PromptResult]:
        """Prompts that leaked, were not blocked when they should be, were blocked when they should not be,
        or (clean) were changed; of one split if given."""
        return [r for r in self.results if (split is None or r.split == split) and miss_kinds(r)]

    def as_dict(self) -> dict:
        lat = sorted(self.latencies_ms)
        return {
            "system": self.name,
            "overall": self.overall.as_dict(),
            "by_split": {c: m.as_dict() for c, m in sorted(self.by_split.items())},
            "by_tier": {f"{split}/{tier}": m.as_dict() for (split, tier), m in sorted(self.by_tier.items())},
            "by_language": {f"{split}/{lang}": m.as_dict() for (split, lang), m in sorted(self.by_language.items())},
            "spans_by_entity": dict(sorted(self.spans_by_entity.items())),
            "leaks_by_entity": dict(sorted(self.leaks_by_entity.items())),
            "median_ms": lat[len(lat) // 2] if lat else None,
            # Hold-out failures are counted by kind, not listed: listing them would invite tuning on them.
            "failures": [asdict(r) for r in self.failures("dev")],
            "holdout_misses": dict(holdout_misses(self)),
        }


def miss_kinds(result: PromptResult) -> list[str]:
    """What went wrong with one prompt, as kinds of miss (no id, no text)."""
    kinds = [f"leaked {entity}" for entity in sorted(set(result.leaked))]
    if result.expected == "block" and result.action != "block":
        kinds.append("not blocked")
    if result.expected != "block" and result.action == "block":
        kinds.append("over-blocked")
    if result.expected == "allow" and result.changed and result.action != "block":
        kinds.append("clean prompt changed")
    if result.eaten and result.expected != "allow":
        kinds.append("words or table structure eaten")
    return kinds


def holdout_misses(report: SystemReport) -> Counter:
    """Kinds of miss on the hold-out split, counted over prompts."""
    return Counter(kind for r in report.results if r.split == "holdout" for kind in miss_kinds(r))


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
                tier = raw["tier"] if "tier" in raw else raw["category"]  # "category": corpora before tiers
                prompt = LabelledPrompt(str(raw["id"]), tier, raw["text"], raw["expected"], bool(raw["clean"]),
                                        spans, raw.get("split", "dev"), raw.get("language", "en"))
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError(f"{prompts_path.name} line {lineno}: not a labelled prompt ({exc})") from None
            if prompt.expected not in ("allow", "redact", "block"):
                raise CorpusError(f"{prompts_path.name} line {lineno}: unknown expected action")
            prompts.append(prompt)
    if not prompts:
        raise CorpusError(f"{prompts_path} holds no prompts")
    return prompts, roster_path


def select(prompts: Sequence[LabelledPrompt], splits: Iterable[str] = (), tiers: Iterable[str] = (),
           languages: Iterable[str] = ()) -> list[LabelledPrompt]:
    """The prompts of the given splits, tiers and languages (an empty filter keeps everything)."""
    splits, tiers, languages = set(splits), set(tiers), set(languages)
    chosen = [p for p in prompts if (not splits or p.split in splits) and (not tiers or p.tier in tiers)
              and (not languages or p.language in languages)]
    if not chosen:
        raise CorpusError("no prompt matches the --split / --tier / --language filters")
    return chosen


# -- judging one outcome -----------------------------------------------------------------------------------

# Placeholders of pupilguard ("[PUPIL_1]") and of Presidio's replace operator ("<PERSON>"): letters inside them
# are the system's, never the original's ("O'NEILL" must not count as surviving in "[PUPIL_8]").
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*_\d+\]|<[A-Z_]+>")


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


def _eaten(prompt: LabelledPrompt, kept: list[int], forwarded: str) -> bool:
    """A word outside every labelled span, or a line break or table delimiter, is gone from the forwarded text."""
    inside = bytearray(len(prompt.text))
    for span in prompt.spans:
        inside[span.start:span.end] = b"\x01" * (span.end - span.start)
    for token in _TOKEN.finditer(prompt.text):
        start, end = token.span()
        if end - start >= 2 and not any(inside[start:end]) and not all(kept[start:end]):
            return True
    for mark in _STRUCTURE:
        outside = sum(1 for i, ch in enumerate(prompt.text) if ch == mark and not inside[i])
        if forwarded.count(mark) < outside:
            return True
    return False


def _overlaps(region: tuple[int, int], span: Span) -> bool:
    a, b = region
    if a == b:  # text inserted at one point
        return span.start <= a <= span.end
    return a < span.end and span.start < b


def judge(prompt: LabelledPrompt, outcome: Outcome) -> PromptResult:
    labels = (prompt.id, prompt.tier, prompt.split, prompt.language, prompt.expected)
    if outcome.action == "block" or outcome.forwarded is None:
        return PromptResult(*labels, "block", [], True, 0, 0)
    forwarded = outcome.forwarded
    if forwarded == prompt.text:
        return PromptResult(*labels, outcome.action, [s.entity for s in prompt.spans], False, 0, 0)
    kept, regions = _preserved(prompt.text, forwarded)
    leaked = [s.entity for s in prompt.spans if _span_survives(s, kept, forwarded)]
    true_regions = sum(any(_overlaps(region, s) for s in prompt.spans) for region in regions)
    return PromptResult(*labels, outcome.action, leaked, True, len(regions), true_regions,
                        _eaten(prompt, kept, forwarded))


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
        for metrics in (report.overall, report.by_split[prompt.split], report.by_tier[(prompt.split, prompt.tier)],
                        report.by_language[(prompt.split, prompt.language)]):
            metrics.add(prompt, result)
        report.spans_by_entity.update(s.entity for s in prompt.spans)
        if progress:
            progress()
    return report


def evaluate(corpus: str | Path, model: str | None = None, baseline: bool = True,
             progress_factory: Callable[[str, int], Callable[[], None]] | None = None,
             splits: Iterable[str] = (), tiers: Iterable[str] = (), languages: Iterable[str] = ()) -> list[SystemReport]:
    """Run pupilguard (and stock Presidio unless baseline=False) over the corpus, or the part of it the filters
    select; one report per system."""
    prompts, roster_csv = load_corpus(corpus)
    prompts = select(prompts, splits, tiers, languages)
    system, engine = pupilguard_system(roster_csv, model)
    reports = [run_system("pupilguard", system, prompts,
                          progress_factory("pupilguard", len(prompts)) if progress_factory else None)]
    if baseline:
        presidio = stock_presidio_system(engine.model)
        reports.append(run_system("stock Presidio", presidio, prompts,
                                  progress_factory("stock Presidio", len(prompts)) if progress_factory else None))
    return reports


def meets_targets(metrics: Metrics, targets: Targets = ISSUE_9_TARGETS) -> dict[str, bool]:
    """Each target of `targets` (labelled in plain words) and whether `metrics` meets it. A metric with nothing
    to measure (no expected blocks, no clean prompts) meets its target."""
    met = {}
    if targets.max_leak_rate is not None:
        met[f"leak rate <= {targets.max_leak_rate:.0%}"] = (metrics.leak_rate or 0.0) <= targets.max_leak_rate
    if targets.max_zero_leak_entity_leaks is not None:
        met["no roster name, UPN or ULN leaks"] = metrics.zero_leak_entity_leaks <= targets.max_zero_leak_entity_leaks
    met[f"block recall >= {targets.min_block_recall:.0%}"] = (
        metrics.block_recall if metrics.block_recall is not None else 1.0) >= targets.min_block_recall
    met[f"clean prompts changed <= {targets.max_clean_changed:.0%}"] = (
        metrics.clean_changed_rate or 0.0) <= targets.max_clean_changed
    return met


def _target_scopes(report: SystemReport) -> dict[str, Metrics]:
    """The issue-9 targets hold on the hold-out split and on the whole corpus."""
    scopes = {"whole corpus": report.overall}
    if "holdout" in report.by_split:
        scopes["hold-out"] = report.by_split["holdout"]
    return scopes


def to_json(reports: Iterable[SystemReport]) -> str:
    reports = list(reports)
    return json.dumps({"systems": [r.as_dict() for r in reports],
                       "targets": {r.name: {scope: meets_targets(m) for scope, m in _target_scopes(r).items()}
                                   for r in reports}}, indent=2)


# -- presentation ------------------------------------------------------------------------------------------

SPLITS = (("dev", "dev"), ("holdout", "hold-out"))
# (column, Metrics attribute) of the breakdown tables
_BREAKDOWN = (("leak rate", "leak_rate"), ("block recall", "block_recall"), ("over-blocked", "over_block_rate"),
              ("clean changed", "clean_changed_rate"), ("words eaten", "eaten_rate"))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _overall(reports: Sequence[SystemReport]):
    from rich.table import Table

    table = Table(title="Overall: dev, hold-out and all, per system", title_justify="left")
    table.add_column("metric")
    scopes = [(label, lambda r, split=split: r.by_split.get(split)) for split, label in SPLITS] + [
        ("all", lambda r: r.overall)]
    for report in reports:
        for label, _ in scopes:
            table.add_column(f"{report.name}\n{label}", justify="right")
    rows = [
        ("prompts", lambda m: str(m.prompts)),
        ("leak rate (prompts with identifiers)", lambda m: f"{_pct(m.leak_rate)} ({m.leaking}/{m.with_identifiers})"),
        ("block recall", lambda m: f"{_pct(m.block_recall)} ({m.blocked_expected}/{m.expected_blocks})"),
        ("over-blocked (not expected block)", lambda m: f"{_pct(m.over_block_rate)} ({m.over_blocked}/{m.not_block_expected})"),
        ("clean prompts changed", lambda m: f"{_pct(m.clean_changed_rate)} ({m.clean_changed}/{m.clean})"),
        ("words or table structure eaten", lambda m: f"{_pct(m.eaten_rate)} ({m.eaten}/{m.forwarded_changed})"),
        ("redaction precision (regions)", lambda m: f"{_pct(m.precision)} ({m.true_regions}/{m.regions})"),
        ("action as labelled", lambda m: _pct(m.action_accuracy)),
        ("roster name / UPN / ULN spans leaked", lambda m: str(m.zero_leak_entity_leaks)),
    ]
    for label, cell in rows:
        cells = []
        for report in reports:
            for _, scope in scopes:
                metrics = scope(report)
                cells.append(cell(metrics) if metrics and metrics.prompts else "—")
        table.add_row(label, *cells)
    table.add_row("median scan ms", *(f"{r.as_dict()['median_ms']:.1f}" if (label == "all" and r.latencies_ms) else ""
                                      for r in reports for label, _ in scopes))
    return table


def _breakdown(reports: Sequence[SystemReport], what: str, by: str, split: str, label: str):
    """One row per tier (or language) of one split; each metric cell is "pupilguard / stock Presidio"."""
    from rich.table import Table

    keys = sorted(key for (s, key) in getattr(reports[0], by) if s == split)
    names = " / ".join(r.name for r in reports)
    table = Table(title=f"Per {what}, {label} ({names})", title_justify="left")
    table.add_column(what)
    table.add_column("n", justify="right")
    for column, _ in _BREAKDOWN:
        table.add_column(column, justify="right")
    for key in keys:
        ms = [getattr(r, by)[(split, key)] for r in reports]
        table.add_row(key, str(ms[0].prompts),
                      *(" / ".join(_pct(getattr(m, attr)) for m in ms) for _, attr in _BREAKDOWN))
    return table


def tables(reports: Sequence[SystemReport]) -> list:
    """Rich tables: overall (dev / hold-out / all, every system side by side), per tier and per language for each
    split, leaks per entity type, and the issue-9 targets."""
    from rich.table import Table

    out = [_overall(reports)]
    for split, label in SPLITS:
        if split in reports[0].by_split:
            out.append(_breakdown(reports, "tier", "by_tier", split, label))
    for split, label in SPLITS:
        if split in reports[0].by_split:
            out.append(_breakdown(reports, "language", "by_language", split, label))

    per_entity = Table(title="Labelled spans leaked, by entity type (all splits)", title_justify="left")
    per_entity.add_column("entity")
    per_entity.add_column("spans", justify="right")
    for report in reports:
        per_entity.add_column(report.name, justify="right")
    for entity, count in sorted(reports[0].spans_by_entity.items()):
        per_entity.add_row(entity, str(count), *(str(r.leaks_by_entity[entity]) for r in reports))
    out.append(per_entity)

    targets = Table(title=f"Targets ({ISSUE_9_TARGETS.name}, {reports[0].name})", title_justify="left")
    targets.add_column("scope")
    targets.add_column("target")
    targets.add_column("met")
    for scope, metrics in _target_scopes(reports[0]).items():
        for label, ok in meets_targets(metrics).items():
            targets.add_row(scope, label, "[green]yes[/green]" if ok else "[red]NO[/red]")
    out.append(targets)
    return out


def failures_table(report: SystemReport):
    """The dev split's failing ids and kinds of miss, never text."""
    from rich.table import Table

    table = Table(title=f"Failures ({report.name}, dev split)", title_justify="left")
    for col in ("id", "expected", "got", "what went wrong"):
        table.add_column(col)
    for r in report.failures("dev"):
        table.add_row(r.id, r.expected, r.action, "; ".join(miss_kinds(r)))
    return table


def holdout_misses_table(report: SystemReport):
    """Hold-out misses as kinds and counts only: no ids, no text, so nobody tunes on them."""
    from rich.table import Table

    table = Table(title=f"Hold-out misses by kind ({report.name}; ids are not shown)", title_justify="left")
    table.add_column("kind of miss")
    table.add_column("prompts", justify="right")
    for kind, count in sorted(holdout_misses(report).items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(kind, str(count))
    return table
