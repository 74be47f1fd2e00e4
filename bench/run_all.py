"""Runs every benchmark in bench/ (each `bench/*_bench.py`, in name order, in its own process) and prints their
tables as they come, then a summary of which ran and how long each took.

    .venv/bin/python bench/run_all.py [--only NAME ...] [--list]

Benchmarks take no arguments here (each has sensible defaults; run one by hand for its options). A failing
benchmark does not stop the others; the exit status is non-zero if any failed.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent


def discover() -> list[Path]:
    return sorted(BENCH.glob("*_bench.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (e.g. detect_bench roster)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks found and exit")
    args = parser.parse_args()

    scripts = discover()
    if args.only:
        wanted = {name.removesuffix(".py").removesuffix("_bench") for name in args.only}
        scripts = [s for s in scripts if s.stem.removesuffix("_bench") in wanted]
        missing = wanted - {s.stem.removesuffix("_bench") for s in scripts}
        if missing:
            print(f"run_all: no benchmark named {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    console = Console()
    if args.list:
        for script in scripts:
            console.print(script.name)
        return 0

    summary = []
    for script in scripts:
        console.rule(f"[bold]{script.name}")
        started = time.perf_counter()
        # Output streams straight through so long benchmarks show progress and their own tables.
        code = subprocess.run([sys.executable, str(script)], cwd=BENCH.parent, check=False).returncode
        summary.append((script.name, code, time.perf_counter() - started))

    table = Table(title="Benchmarks run", title_justify="left")
    for col in ("benchmark", "result", "time"):
        table.add_column(col, justify="right" if col == "time" else "left")
    for name, code, seconds in summary:
        table.add_row(name, "[green]ok[/green]" if code == 0 else f"[red]failed (exit {code})[/red]",
                      f"{seconds:.0f} s")
    console.rule()
    console.print(table)
    return 1 if any(code for _, code, _ in summary) else 0


if __name__ == "__main__":
    sys.exit(main())
