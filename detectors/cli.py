"""The `pupilguard` command: one dispatcher, subcommands registered by each part.

Each part (detectors, proxy, admin_api) declares `register_<name>(subparsers)` functions under the
`pupilguard.commands` entry-point group in pyproject.toml. The dispatcher loads them by name, so this
pure library never imports the proxy or the admin service.
"""
from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pupilguard",
        description="Stops identifiable pupil data reaching generative-AI tools.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for entry in sorted(entry_points(group="pupilguard.commands"), key=lambda e: e.name):
        try:
            register = entry.load()
        except (ImportError, AttributeError) as error:
            # One broken part (a missing optional dependency, say) must not take every other command with it.
            _register_unavailable(subparsers, entry.name, error)
        else:
            register(subparsers)
    return parser


def _register_unavailable(subparsers, name: str, error: Exception) -> None:
    def fail(args: argparse.Namespace) -> int:
        print(f"pupilguard {name} is unavailable in this installation: {error}", file=sys.stderr)
        return 2

    parser = subparsers.add_parser(name, help=f"(unavailable: run `pupilguard {name}` to see why)", add_help=False,
                                   prefix_chars="\0")  # so every argument lands in `ignored`
    parser.add_argument("ignored", nargs="*")
    parser.set_defaults(handler=fail)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


def register_scan(subparsers) -> None:
    """`pupilguard scan`: JSON lines {"id", "text"} on stdin -> one decision per line on stdout."""
    scan = subparsers.add_parser(
        "scan", help="scan prompts (JSON lines on stdin) and print allow/redact/block decisions",
        description='Reads JSON lines {"id": ..., "text": ...} from stdin and writes one JSON line per input: '
                    '{"id", "action", "text" (null when blocked), "findings", "reasons"}. Findings never carry '
                    'the matched text. A bad line gets {"id", "error"} and the run goes on.')
    scan.add_argument("--roster", metavar="ROSTER", help="hashed roster file (pupilguard roster import)")
    scan.add_argument("--key-file", metavar="FILE",
                      help="roster key file (else $PUPILGUARD_ROSTER_KEY, then $PUPILGUARD_ROSTER_KEY_FILE)")
    scan.add_argument("--policy", metavar="FILE", help="policy YAML (default: the shipped default policy)")
    scan.add_argument("--tool", metavar="NAME", help="tool id, for per-tool policy overrides")
    scan.add_argument("--profile", metavar="NAME", help="profile (staff, pupil, ...), for per-profile overrides")
    scan.add_argument("--model", metavar="MODEL", help="spaCy model name or path (default: en_core_web_lg if "
                      "installed, else the bundled en_core_web_md; env PUPILGUARD_SPACY_MODEL)")
    scan.set_defaults(handler=_scan)


def _scan(args) -> int:
    import json
    from pathlib import Path

    from detectors.engine import Engine, EngineError
    from detectors.placeholders import Placeholders
    from detectors.policy import PolicyError, load_policy

    try:
        policy = load_policy(Path(args.policy)) if args.policy else None
        roster = None
        if args.roster:
            from detectors.roster import Roster, RosterError, RosterKey

            try:
                roster = Roster.load(args.roster, RosterKey.resolve(args.key_file))
            except (RosterError, OSError) as exc:
                raise EngineError(f"cannot load roster: {exc}") from None
        engine = Engine(policy=policy, roster=roster, model=args.model)
    except (PolicyError, EngineError) as exc:
        print(f"pupilguard scan: error: {exc}", file=sys.stderr)
        return 2

    out = sys.stdout
    for lineno, raw in enumerate(sys.stdin.buffer, start=1):
        if not raw.strip():
            continue
        ident = None
        try:
            item = json.loads(raw.decode("utf-8"))
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object {\"id\": ..., \"text\": ...}")
            ident = item.get("id")
            text = item.get("text")
            if not isinstance(text, str):
                raise ValueError('"text" must be a string')
        except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError; never echo the line
            reason = f"line {lineno}: not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else \
                f"line {lineno}: invalid JSON" if isinstance(exc, json.JSONDecodeError) else f"line {lineno}: {exc}"
            out.write(json.dumps({"id": ident if _json_scalar(ident) else None, "error": reason}) + "\n")
            out.flush()
            continue
        decision = engine.scan([text], tool=args.tool, profile=args.profile, placeholders=Placeholders())
        findings = [{"entity": f.entity, "start": f.start, "end": f.end, "score": f.score,
                     **({"subtype": f.subtype} if f.subtype else {})} for f in decision.findings]
        out.write(json.dumps({"id": ident, "action": decision.action,
                              "text": decision.texts[0] if decision.texts is not None else None,
                              "findings": findings, "reasons": decision.reasons}, ensure_ascii=False) + "\n")
        out.flush()
    return 0


def _json_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def register_roster(subparsers) -> None:
    """`pupilguard roster import|info`: build the hashed roster from an MIS export, or describe one."""
    roster = subparsers.add_parser("roster", help="import or inspect the hashed pupil roster")
    actions = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    key_help = "roster key file, created 0600 if absent (else $PUPILGUARD_ROSTER_KEY, then $PUPILGUARD_ROSTER_KEY_FILE)"
    imp = actions.add_parser("import", help="hash an MIS pupil export (SIMS, Arbor, Bromcom, Wonde, Xporter CSV)")
    imp.add_argument("export", metavar="EXPORT.csv")
    imp.add_argument("--out", required=True, metavar="ROSTER", help="roster file to write")
    imp.add_argument("--key-file", metavar="FILE", help=key_help)
    imp.set_defaults(handler=_roster_import)
    info = actions.add_parser("info", help="show a roster file's counts and key fingerprint")
    info.add_argument("roster", metavar="ROSTER")
    info.add_argument("--key-file", metavar="FILE", help=key_help)
    info.set_defaults(handler=_roster_info)


def _roster_import(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from detectors.mis_import import MisImportError, import_mis_csv
    from detectors.roster import RosterError, RosterKey

    err = Console(stderr=True)
    try:
        key = RosterKey.resolve(args.key_file)
        with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("import", total=None)
            report = import_mis_csv(args.export, args.out, key,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total))
    except (MisImportError, RosterError) as exc:
        print(f"pupilguard roster import: error: {exc}", file=sys.stderr)
        return 2

    def rows(numbers: list[int]) -> str:
        shown = ", ".join(map(str, numbers[:10]))
        return shown + (f" … (+{len(numbers) - 10})" if len(numbers) > 10 else "")

    out = Console()
    table = Table(title=f"Roster written to {args.out}", show_header=False)
    for label, value in (("MIS header style", report.style), ("encoding", report.encoding),
                         ("data rows", report.rows), ("pupils", report.pupils),
                         ("rows merged into an earlier pupil", report.merged_rows),
                         ("name forms (hashed)", report.name_forms), ("identifiers (hashed)", report.identifiers),
                         ("rows skipped", report.skipped_rows), ("key fingerprint", report.key_fingerprint),
                         ("time", f"{report.elapsed_s:.1f} s")):
        table.add_row(label, str(value))
    out.print(table)
    for title, problems in (("Skipped rows", report.skipped), ("Warnings", report.warnings)):
        if problems:
            detail = Table(title=title)
            detail.add_column("reason")
            detail.add_column("count", justify="right")
            detail.add_column("rows (file line numbers)")
            for reason, numbers in problems.items():
                detail.add_row(reason, str(len(numbers)), rows(numbers))
            out.print(detail)
    return 0


def _roster_info(args) -> int:
    from rich.console import Console

    from detectors.roster import Roster, RosterError, RosterKey

    try:
        roster = Roster.load(args.roster, RosterKey.resolve(args.key_file))
    except RosterError as exc:
        print(f"pupilguard roster info: error: {exc}", file=sys.stderr)
        return 2
    header = roster.header
    Console().print(f"pupils: {header['pupils']}  name forms: {header['name_forms']}  "
                    f"identifiers: {header['identifiers']}  key fingerprint: {header['key_fingerprint']}",
                    markup=False, highlight=False)
    return 0


def register_eval(subparsers) -> None:
    """`pupilguard eval`: accuracy on a labelled corpus, per tier, language and split, beside stock Presidio."""
    ev = subparsers.add_parser(
        "eval", help="measure leaks, block recall and clean-prompt changes on a labelled corpus",
        description="Imports the corpus roster under a throw-away key, scans every labelled prompt and reports "
                    "leak rate, block recall, over-blocking, clean prompts changed and words eaten, overall, per "
                    "tier and per language, for the dev and hold-out splits, next to stock Presidio (default "
                    "recognisers, same spaCy model). Prints no prompt text; hold-out misses only as counts.")
    ev.add_argument("--corpus", metavar="DIR", help="corpus directory with prompts.jsonl and roster.csv "
                    "(default: bench/corpus of this checkout)")
    ev.add_argument("--model", metavar="MODEL", help="spaCy model name or path (default as for scan)")
    ev.add_argument("--no-baseline", action="store_true", help="skip stock Presidio")
    ev.add_argument("--json", action="store_true", help="machine-readable results on stdout")
    ev.add_argument("--split", action="append", default=[], choices=["dev", "holdout"],
                    help="only this split (repeatable)")
    ev.add_argument("--tier", action="append", default=[], metavar="TIER", help="only this tier (repeatable)")
    ev.add_argument("--language", action="append", default=[], metavar="CODE",
                    help="only prompts in this language: en, cy, pl, ..., mixed (repeatable)")
    ev.add_argument("--failures", action="store_true",
                    help="also list pupilguard's failing dev prompt ids and what went wrong (never their text; "
                         "hold-out misses are only counted by kind)")
    ev.set_defaults(handler=_eval)


def _eval(args) -> int:
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from detectors import evaluate
    from detectors.engine import EngineError
    from detectors.mis_import import MisImportError

    corpus = Path(args.corpus) if args.corpus else Path(__file__).resolve().parent.parent / "bench" / "corpus"
    err = Console(stderr=True)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as bar:
            def factory(name: str, total: int):
                task = bar.add_task(name, total=total)
                return lambda: bar.advance(task)

            reports = evaluate.evaluate(corpus, model=args.model, baseline=not args.no_baseline,
                                        progress_factory=factory, splits=args.split, tiers=args.tier,
                                        languages=args.language)
    except (evaluate.CorpusError, EngineError, MisImportError) as exc:
        print(f"pupilguard eval: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(evaluate.to_json(reports))
    else:
        out = Console() if sys.stdout.isatty() else Console(width=160)  # ids and columns stay whole in logs
        for table in evaluate.tables(reports):
            out.print(table)
        if "holdout" in reports[0].by_split:
            out.print(evaluate.holdout_misses_table(reports[0]))
        if args.failures:  # pupilguard's own: the baseline's would be most of the corpus
            out.print(evaluate.failures_table(reports[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
