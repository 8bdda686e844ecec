# The two commands of the README. Both start from a fresh machine.
PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test venv lint clean

$(VENV)/bin/hoering: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/bin/hoering

demo: venv
	$(VENV)/bin/hoering demo

test:
	bash tests/run.sh

lint: venv
	$(VENV)/bin/ruff check flows tests deployments sql setup.py
	$(VENV)/bin/ruff format --check flows tests deployments sql setup.py
	$(VENV)/bin/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
