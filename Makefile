# xxgk — see README.md. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_PORT ?= 3000

.PHONY: install run test dev lint bench bench-10k bench-parse bench-crawl docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m pipeline run

test: $(STAMP)
	$(PY) -m ruff check pipeline assets tests benchmarks
	$(PY) -m pytest

# The UI and the daemon on the instance `make run` records into; stops on Ctrl-C and SIGTERM (assets/dev.py).
dev: $(STAMP)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster_home}; mkdir -p $$DAGSTER_HOME; \
	DAGSTER_HOME=$$DAGSTER_HOME exec $(PY) -m assets.dev -w workspace.yaml -p $(DEV_PORT)

lint: $(STAMP)
	$(PY) -m ruff check pipeline assets tests benchmarks
	$(PY) -m ruff format --check pipeline assets tests benchmarks

# The scale benchmark (README, Performance): generate N reports, a full run, a no-change rerun, per-format speed.
bench: $(STAMP)
	$(PY) -m benchmarks.run_benchmark --n 1000

bench-10k: $(STAMP)
	$(PY) -m benchmarks.run_benchmark --n 10000

# Parse speed per format on the bundled fixtures and samples.
bench-parse: $(STAMP)
	$(PY) -m benchmarks.parse_speed

# Crawl coverage (README, Pointing it at real sites): a generated portal with every pattern, two runs.
bench-crawl: $(STAMP)
	$(PY) -m benchmarks.crawl_portal

docs: $(STAMP)
	$(PY) -c "from pathlib import Path; from pipeline.tables import update_readme; update_readme(Path('README.md'))"
	$(PY) -c "from pathlib import Path; from assets.metadata_keys import update_readme; update_readme(Path('README.md'))"

clean:
	rm -rf data/raw data/warehouse data/cache data/dagster_home data/summary.html
