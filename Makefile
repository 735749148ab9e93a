# xxgk — see README.md. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_PORT ?= 3000

.PHONY: install run test dev lint bench bench-10k bench-parse bench-crawl bench-ocr cluster-demo docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m pipeline run

test: $(STAMP)
	$(PY) -m ruff check pipeline assets tests benchmarks deploy
	$(PY) -m pytest

# The UI and the daemon on the instance `make run` records into; stops on Ctrl-C and SIGTERM (assets/dev.py).
dev: $(STAMP)
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/data/dagster_home}; mkdir -p $$DAGSTER_HOME; \
	DAGSTER_HOME=$$DAGSTER_HOME exec $(PY) -m assets.dev -w workspace.yaml -p $(DEV_PORT)

lint: $(STAMP)
	$(PY) -m ruff check pipeline assets tests benchmarks deploy
	$(PY) -m ruff format --check pipeline assets tests benchmarks deploy

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

# OCR accuracy and speed (README, Performance): every generated quirk and 淮安 2024 scanned at 150/200 dpi.
bench-ocr: $(STAMP)
	$(PY) -m benchmarks.ocr_scans

# The scale-out on this machine (README, Operations → Scale): Postgres, Redis, an S3 server, dagster-daemon,
# dagster-webserver and two Celery workers; the nightly run through them, a worker killed mid-step. ~3 min.
cluster-demo: $(STAMP)
	$(PY) -m deploy.demo

docs: $(STAMP)
	$(PY) -c "from pathlib import Path; from pipeline.tables import update_readme; update_readme(Path('README.md'))"
	$(PY) -c "from pathlib import Path; from assets.metadata_keys import update_readme; update_readme(Path('README.md'))"

clean:
	rm -rf data/raw data/warehouse data/cache data/dagster_home data/summary.html
