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
        entry.load()(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
