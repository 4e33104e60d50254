# make run  — set up everything and serve the demo on http://127.0.0.1:8000
# make test — install what the tests need and run lint, types and the whole suite
# make bench — measure, and print one table of ratios against same-run baselines
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types migrate clean bench lock

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Exactly the versions in the lock (made by uv from pyproject.toml, test tools included), then
# the project itself without resolving anything again, so every clone runs the same versions.
LOCK := requirements/lock.txt

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/activate
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# After changing dependencies in pyproject.toml: `make lock` keeps every other pin;
# `make lock LOCK_ARGS=--upgrade` moves all to the newest releases (or --upgrade-package NAME).
UV_VERSION := 0.13.9
lock: | $(BIN)/activate
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
		-o $(LOCK) $(LOCK_ARGS)

# The local mailbox pages (development only) are on for `make run` on a loopback BASE_URL
# (the default), and off when mail goes out through SMTP_URL or BASE_URL names another host.
MAILBOX_PAGES ?= $(if $(or $(SMTP_URL),$(filter-out http://127.0.0.1% http://localhost%,$(BASE_URL))),off,on)

run: $(VENV)/.installed
	$(BIN)/lunchkafe migrate
	$(BIN)/lunchkafe seed-demo --if-empty
	MAILBOX_PAGES=$(MAILBOX_PAGES) $(BIN)/lunchkafe serve

# The suite runs in TEST_WORKERS processes (pytest-xdist; `make test TEST_WORKERS=0` runs it in
# one). --dist loadfile keeps each test file in one process: a few files use a Redis database
# number of their own, and PostgreSQL databases are named by process id, so files never clash.
TEST_WORKERS ?= 2

test: $(VENV)/.installed
	bash scripts/test-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Every benchmark once and one table of ratios (bench/run.py): some 5 minutes on 2 cores;
# `make bench BENCH_ARGS=--quick` is a smoke run of a minute or two.
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
