"""How long `make dev` takes to stop on SIGTERM (what a process manager sends) and on Ctrl-C (SIGINT to
the terminal's process group).

    python -m benchmarks.dev_stop [--port 3123] [--signal TERM|INT] [--timeout 60]

Starts `make dev DEV_PORT=<port>` in its own session with a temporary DAGSTER_HOME, waits until the UI
answers (`/server_info`), sends the signal — TERM to `make` alone, INT to the whole process group as a
terminal does — and prints how long until every process of the session has exited (or what is left
after the timeout, which it then kills).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def _session_pids(sid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state, ppid, pgrp, session
            pids.append(int(entry.name))
    return pids


def measure(port: int, sig: str, timeout: float) -> float | None:
    """Seconds from the signal until the session is empty; None when it was still alive at `timeout`."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DAGSTER_HOME": home}
        proc = subprocess.Popen(
            ["make", "dev", f"DEV_PORT={port}"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sid = proc.pid
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            else:
                raise RuntimeError("the UI did not come up within 180 s")
            time.sleep(3)  # the daemon and the code server settle
            start = time.monotonic()
            if sig == "INT":
                os.killpg(sid, signal.SIGINT)
            else:
                os.kill(proc.pid, signal.SIGTERM)
            while time.monotonic() - start < timeout:
                if not _session_pids(sid):
                    return time.monotonic() - start
                time.sleep(0.1)
            print("still running:", _session_pids(sid))
            return None
        finally:
            for pid in _session_pids(sid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3123)
    parser.add_argument("--signal", choices=("TERM", "INT"), default="TERM")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    took = measure(args.port, args.signal, args.timeout)
    print(
        f"SIG{args.signal}: "
        + (f"stopped in {took:.1f} s" if took is not None else f"not stopped in {args.timeout:.0f} s")
    )
    return 0 if took is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
