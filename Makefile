# Two commands do all the set-up: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: run test deps system-deps bench-deps lint format bench clean

## run: serve the API on the embedded SpatiaLite database with the demo county (PORT=5000 by default)
run: deps
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: the whole suite, every database test on SpatiaLite and on PostGIS
test: deps
	$(VENV)/bin/pytest -n 2 --dist loadgroup

deps: system-deps $(VENV)/.installed

system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

lint: deps
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## bench: HTTP load under gunicorn (wrk) and every list at county and province scale, on SpatiaLite and PostGIS;
## prints tables and writes bench-results.md (~25 min). Options: make bench BENCH_ARGS="--help"
bench: deps bench-deps
	$(VENV)/bin/python scripts/bench.py $(BENCH_ARGS)

bench-deps:
	@bash scripts/install-bench-deps.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
