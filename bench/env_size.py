"""How big the production Python environment is, and what makes it so (issue 11 asks for under 450 MB).

    .venv/bin/python bench/env_size.py [VENV] [--top 25]     (the production environment's own Python works too)

VENV is an environment built by deploy/install.sh (default /opt/pupilguard/venv; the install test keeps one
under ~/.cache/pupilguard-tests/). Each installed distribution is charged with the files its RECORD lists, as
they are on disk now (after the installer's strip step); what no RECORD lists (the interpreter links, byte code
written at run time) is shown as "not in any package".
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
from pathlib import Path

from rich.console import Console
from rich.table import Table

MB = 1000 * 1000  # issue 11 counts in MB, not MiB (du -sm)


def _disk_bytes(path: Path) -> int:
    try:
        return path.lstat().st_blocks * 512
    except FileNotFoundError:
        return 0


def package_sizes(venv: Path) -> tuple[dict[str, int], int]:
    """Bytes on disk per installed distribution, and the environment's total."""
    site = next(venv.glob("lib/python3*/site-packages"))
    counted: set[Path] = set()
    sizes = {}
    for dist in importlib.metadata.distributions(path=[str(site)]):
        files = {(site / f).resolve() for f in dist.files or ()}
        files |= {p for f in files if f.suffix == ".py" for p in f.parent.glob(f"__pycache__/{f.stem}.*.pyc")}
        files -= counted
        counted |= files
        sizes[dist.metadata["Name"]] = sum(_disk_bytes(f) for f in files)
    total = sum(_disk_bytes(Path(d) / f) for d, _, names in os.walk(venv) for f in names)
    return sizes, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", nargs="?", type=Path, default=Path("/opt/pupilguard/venv"))
    parser.add_argument("--top", type=int, default=25, help="rows for the largest distributions")
    args = parser.parse_args()

    sizes, total = package_sizes(args.venv)
    table = Table(title=f"{args.venv}: {total / MB:.0f} MB in {len(sizes)} distributions", title_justify="left")
    table.add_column("distribution")
    table.add_column("MB", justify="right")
    table.add_column("share", justify="right")
    ranked = sorted(sizes.items(), key=lambda item: -item[1])
    for name, size in ranked[:args.top]:
        table.add_row(name, f"{size / MB:.1f}", f"{size / total:.0%}")
    rest = sum(size for _, size in ranked[args.top:])
    table.add_row(f"{len(ranked) - args.top} others", f"{rest / MB:.1f}", f"{rest / total:.0%}")
    loose = total - sum(sizes.values())
    table.add_row("not in any package", f"{loose / MB:.1f}", f"{loose / total:.0%}")
    Console().print(table)


if __name__ == "__main__":
    main()
