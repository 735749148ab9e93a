"""`make dev`: `dagster dev` that stops promptly on SIGTERM as well as on Ctrl-C.

Ctrl-C in a terminal sends SIGINT to every process of the foreground group — `dagster dev`, its
webserver, its daemon and their code servers — and they all wind down at once (about 6 s here). A
process manager, `kill` or `make` sends SIGTERM to one process only: `dagster dev` then asks its
children to stop one after the other and waits for each, up to 60 s. This launcher runs `dagster dev`
in its own process group and turns SIGTERM, SIGINT or SIGHUP into what Ctrl-C does — SIGINT to the whole
group — then waits, and kills what is left after `GRACE_SECONDS`.

    python -m assets.dev -w workspace.yaml -p 3000      # arguments go to `dagster dev`
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

GRACE_SECONDS = 30.0


def run_group(command: Sequence[str], grace: float = GRACE_SECONDS) -> int:
    """Run `command` in a new process group; on SIGTERM/SIGINT/SIGHUP interrupt the whole group as Ctrl-C
    would, wait up to `grace` seconds, then kill the group. Returns the command's exit status."""
    stopping: list[float] = []
    child: subprocess.Popen | None = None

    def interrupt(_signum: int, _frame: object) -> None:
        if not stopping and child is not None:
            stopping.append(time.monotonic())
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGINT)

    # Handlers first: the child then starts with these signals at their defaults (a handler is reset on
    # exec) even when ours were ignored — as a shell's background job (`make dev &`) has SIGINT — so that
    # `dagster dev` and its children do stop on SIGINT.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, interrupt)
    child = subprocess.Popen(list(command), process_group=0)
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stopping and time.monotonic() - stopping[0] > grace:
                os.killpg(child.pid, signal.SIGKILL)
                return child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    dagster = Path(sys.executable).with_name("dagster")
    return run_group([str(dagster), "dev", *args])


if __name__ == "__main__":
    sys.exit(main())
