# make run  — set up everything and serve the demo on http://127.0.0.1:8000
# make test — install what the tests need and run lint, types and the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types migrate clean bench

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# The local mailbox pages (development only) are on for `make run` on a loopback BASE_URL
# (the default), and off when mail goes out through SMTP_URL or BASE_URL names another host.
MAILBOX_PAGES ?= $(if $(or $(SMTP_URL),$(filter-out http://127.0.0.1% http://localhost%,$(BASE_URL))),off,on)

run: $(VENV)/.installed
	$(BIN)/lunchkafe migrate
	$(BIN)/lunchkafe seed-demo --if-empty
	MAILBOX_PAGES=$(MAILBOX_PAGES) $(BIN)/lunchkafe serve

test: $(VENV)/.installed-test
	bash scripts/test-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/booking.py

clean:
	rm -rf $(VENV) var
