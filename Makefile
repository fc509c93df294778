# Two entry points, both self-contained on a machine with Python 3.11 and make:
#   make demo   creates .venv, installs netplan, plans the embedded demo region into out/demo
#   make test   creates .venv, installs netplan with its test tools, runs the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-lower clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found; install it or run make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/netplan demo --out out/demo --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

# the suite against the lowest dependency versions pyproject.toml allows
test-lower:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 not found"; exit 1; }
	$(PYTHON) -m venv .venv-lower
	.venv-lower/bin/python -m pip install --quiet -c .ci/lower-bounds.txt -e '.[test]'
	.venv-lower/bin/python -m pytest

clean:
	rm -rf $(VENV) .venv-lower out .pytest_cache
