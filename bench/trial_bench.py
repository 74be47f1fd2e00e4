"""Time to first prompt of the trial (`make run`): from `pupilguard trial` starting to the first prompt it prints
coming back redacted through its proxy.

    .venv/bin/python bench/trial_bench.py [--runs 2]

The first run starts in an empty data directory (roster import, new CA, new database), as `make run` does the first
time; later runs reuse it, as `make run` does again. Each run follows the trial's own output: its phases as it
announces them, then the first curl line it prints, sent as printed. Times depend on the machine (the language model
loads from disk, so a warm page cache helps): compare phases, not absolutes.
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

PUPILGUARD = Path(sys.executable).parent / "pupilguard"
# The lines `pupilguard trial` prints as it goes, and the phase each one closes.
PHASES = (("Starting the admin service", "prepare (roster, keys)"),
          ("Starting the demo AI service", "admin service up"),
          ("pupilguard is running", "proxy up (language model loaded)"))


def one_run(data: Path) -> dict[str, float]:
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "PUPILGUARD_ROSTER_KEY"}
    trial = subprocess.Popen([str(PUPILGUARD), "trial", "--data-dir", str(data), "--proxy-listen", "127.0.0.1:0",
                              "--admin-listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env)
    times, lines, last = {}, [], started
    try:
        for line in trial.stdout:
            lines.append(line)
            for marker, phase in PHASES:
                if line.startswith(marker) and phase not in times:
                    now = time.perf_counter()
                    times[phase], last = now - last, now
            if line.startswith("Press Ctrl-C"):
                break
        else:
            raise SystemExit("trial_bench: the trial stopped before it was ready:\n" + "".join(lines[-20:]))
        curl = next(line for line in lines if line.startswith("curl "))
        reply = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=120).stdout
        times["first prompt answered"] = time.perf_counter() - last
        times["time to first prompt"] = time.perf_counter() - started
        if "[PUPIL_1]" not in reply:  # the reply echoes what the AI service received; never printed here
            raise SystemExit("trial_bench: the first prompt did not come back redacted")
        return times
    finally:
        trial.send_signal(signal.SIGINT)
        trial.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="the first in an empty data directory, then again")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pupilguard-trial-bench-") as scratch:
        runs = [one_run(Path(scratch) / "trial") for _ in range(args.runs)]
    table = Table(title="pupilguard trial: seconds to the first redacted prompt", title_justify="left")
    table.add_column("phase")
    for i in range(len(runs)):
        table.add_column("first run" if i == 0 else f"again ({i})", justify="right")
    for phase in [*(p for _, p in PHASES), "first prompt answered", "time to first prompt"]:
        table.add_row(phase, *(f"{run[phase]:.1f}" for run in runs))
    Console().print(table)


if __name__ == "__main__":
    main()
