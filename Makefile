# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint gen baseline serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python scripts/gen_protos.py --third-party-only
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python -m stack.demo

test: setup lint
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/buf lint
	$(BIN)/buf format -d --exit-code proto

gen: setup
	$(BIN)/python scripts/gen_protos.py

# Deliberately refresh the breaking-change baseline (a release decision, not a routine step).
baseline: setup
	$(BIN)/buf build proto -o api/baseline.binpb

serve: setup
	$(BIN)/python -m stack

clean:
	rm -rf $(VENV) third_party var .pytest_cache .ruff_cache
