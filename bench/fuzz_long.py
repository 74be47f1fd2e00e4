"""The long fuzz run by hand (issue 14: "no leak in 10,000 cases"): the JSON and the Office-document properties of
tests/fuzz, each with N cases (10,000 by default), one after the other, then how long each took and its verdict.

    PYTHONPATH=$PWD .venv/bin/python bench/fuzz_long.py [--cases 10000] [--only json|office]

`make test` runs the same properties with a CI-sized number of cases (tests/fuzz/conftest.py). The end-to-end
property (through a real proxy) is not part of this run. A leak fails the property and hypothesis prints the
smallest case it found; record the result in tests/security/README.md.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROPERTIES = {"json": "test_a_name_anywhere_in_a_json_body_never_leaves",
              "office": "test_a_name_in_any_part_of_an_office_document_never_leaves"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--only", choices=sorted(PROPERTIES))
    args = parser.parse_args()
    env = {**os.environ, "PUPILGUARD_FUZZ_EXAMPLES": str(args.cases),
           "PUPILGUARD_FUZZ_OFFICE_EXAMPLES": str(args.cases)}
    failed = 0
    for kind, test in PROPERTIES.items():
        if args.only and kind != args.only:
            continue
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "pytest", f"tests/fuzz/test_no_name_leaves.py::{test}", "-q",
                              "-p", "no:cacheprovider", "--timeout=0", "--hypothesis-show-statistics"],
                             cwd=REPO, env=env)
        minutes = (time.monotonic() - started) / 60
        verdict = "no leak" if run.returncode == 0 else "FAILED (see the case above)"
        print(f"\n{kind}: {args.cases} cases, {minutes:.1f} min, {verdict}", flush=True)
        failed |= run.returncode
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
