"""The Dagster instance `python -m pipeline run` records its runs in: the one `make dev` shows.

`DAGSTER_HOME` when set (the operator's instance: SQLite by default, Postgres with deploy/dagster.yaml),
else `data/dagster_home` under the working directory — where `make dev` keeps it — so the UI shows
what the last run did, with its history. Tests give each run its own temporary `DAGSTER_HOME`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

HOME_ENV = "DAGSTER_HOME"
DEFAULT_HOME = Path("data") / "dagster_home"


def dagster_home() -> Path:
    """The instance folder: $DAGSTER_HOME, else ./data/dagster_home (absolute)."""
    configured = os.environ.get(HOME_ENV, "").strip()
    return Path(configured).resolve() if configured else (Path.cwd() / DEFAULT_HOME).resolve()


def persistent_instance() -> dg.DagsterInstance:
    """The instance at `dagster_home()`, its folder created (Dagster wants it to exist), with an empty
    `dagster.yaml` when it has none (SQLite storage in the folder: Dagster's default, stated)."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "# Dagster instance of xxgk (python -m pipeline run, make dev): SQLite storage in this folder.\n"
            "# For Postgres and the run queue, use deploy/dagster.yaml instead (README, Operations).\n",
            encoding="utf-8",
        )
    return dg.DagsterInstance.from_config(str(home))
