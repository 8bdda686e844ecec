# The two commands of the README. Both start from a fresh machine.
PYTHON ?= python3
VENV ?= .venv

.PHONY: demo test venv lint bench clean

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

# The benchmark beside the product (bench/): make bench ARGS="--responses 20000 --json"
bench: venv
	$(VENV)/bin/python -m bench $(ARGS)

lint: venv
	$(VENV)/bin/ruff check flows bench tests deployments sql setup.py
	$(VENV)/bin/ruff format --check flows bench tests deployments sql setup.py
	$(VENV)/bin/mypy

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
