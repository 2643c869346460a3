# beatwise: `make run` sets up and runs the pipeline on the embedded data; `make test` sets up and tests.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
export UV_LINK_MODE ?= copy
# Installed packages are compiled once: a process that may not write bytecode (PYTHONDONTWRITEBYTECODE)
# would otherwise compile every module it imports, each Dagster step and dbt process 1-2 s more.
export UV_COMPILE_BYTECODE ?= 1

.PHONY: setup run test test-crash bench ui manifest lint clean

setup:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet --user uv
	$(UV) sync --frozen
	$(UV) run dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet

run: setup
	$(UV) run beatwise run --config config/chicago_sample.yaml

test: setup
	$(UV) run pytest

test-crash: setup
	$(UV) run pytest -m kill_chain tests/orchestration/test_crash_pipeline.py

bench: setup
	$(UV) run python -m benchmarks.run

ui: setup
	$(UV) run beatwise ui $(UI_ARGS)

manifest:
	$(UV) run dbt parse --project-dir dbt_project --profiles-dir dbt_project

lint:
	$(UV) run ruff check .

clean:
	rm -rf var dbt_project/target dbt_project/logs
