# doclane — `make run` starts the service, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: install
	$(BIN)/doclane serve

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) data .pytest_cache
