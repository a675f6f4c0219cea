# doclane — `make run` starts the service, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test modules run on 3 workers (a module's server and its tests stay on one); the slowest
# tests are listed at the end. PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= 3
PYTEST_ARGS ?=

.PHONY: install models run test bench lint infra-up infra-down clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# doclane's own models, trained into DOCLANE_MODELS_DIR (~/.cache/doclane/models); each
# step does nothing when a model of the same data and code is already there.
models: install
	$(BIN)/python -m models.ner.train
	$(BIN)/python -m models.classify.train
	$(BIN)/python -m models.sentiment.train
	$(BIN)/python -m models.jdskills.train

run: install models
	$(BIN)/doclane serve

# Starts a real Kafka broker and MongoDB-protocol server (infra/), runs every test, stops them.
test: install models
	infra/with-infra.sh $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=20 $(PYTEST_ARGS)

# The pipeline bench uses the servers for its distributed runs; the AI bench needs none.
bench: install models
	infra/with-infra.sh $(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.bigdocs
	infra/with-infra.sh $(BIN)/python -m bench.distributed
	$(BIN)/python -m bench.ai
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.analysis
	$(BIN)/python -m bench.interview
	$(BIN)/python -m bench.fanout
	infra/with-infra.sh $(BIN)/python -m bench.scaleout

lint: install
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/ruff check doclane tests bench
	$(BIN)/mypy

# For running the distributed mode by hand: prints the variables to export.
infra-up:
	@infra/up.sh

infra-down:
	@infra/down.sh

clean:
	rm -rf $(VENV) data .pytest_cache
