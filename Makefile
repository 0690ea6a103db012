# Two commands on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup tools demo test lint gen baseline serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python scripts/gen_protos.py --third-party-only
	touch $(STAMP)

setup: $(STAMP)

# System tools the tests use: nghttpx (the reverse-proxy test), Node's grpc-js (the
# second-implementation test) and Chromium (the report as a browser shows it). Installed only when missing.
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
NODE_DIR  := tests/contract/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

tools: $(NODE_STAMP)
	@command -v nghttpx >/dev/null || [ -x /usr/sbin/nghttpx ] || \
		$(SUDO) apt-get install -y -q nghttp2-proxy || \
		($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q nghttp2-proxy)
	@command -v chromium >/dev/null || \
		$(SUDO) apt-get install -y -q --no-install-recommends chromium || \
		($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends chromium)

demo: setup
	$(BIN)/python -m stack.demo

test: setup tools lint
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service_core cj_server llm_provider_server ras_server huleedu_cli stack
	$(BIN)/buf lint
	$(BIN)/buf format -d --exit-code proto

gen: setup
	$(BIN)/python scripts/gen_protos.py

# Deliberately refresh the breaking-change baseline (a release decision, not a routine step).
baseline: setup
	$(BIN)/buf build proto -o api/baseline.binpb

# The demo's judge unless LPS_MOCK_MODE says otherwise, so results from `make serve` read plausibly.
serve: setup
	LPS_MOCK_MODE=$${LPS_MOCK_MODE:-essay_features} $(BIN)/python -m stack

clean:
	rm -rf $(VENV) third_party var .pytest_cache .ruff_cache $(NODE_DIR)/node_modules
