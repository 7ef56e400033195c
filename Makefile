# Two commands on a fresh machine: `make run` and `make test`. Only Python 3.11 and make needed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
ARGS ?=

export DEBUG ?= 1

.PHONY: run test bench lint migrate install clean-data messages

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found). Try: make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate_schemas

run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py pool fill
	@echo ""
	@echo "  Platform:  http://localhost:$(PORT)/        (console: http://localhost:$(PORT)/console/)"
	@echo "  Demo shop: http://demo.localhost:$(PORT)/    (dashboard: http://demo.localhost:$(PORT)/dashboard/)"
	@echo ""
	$(PY) manage.py runserver 0.0.0.0:$(PORT)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

bench: $(STAMP)
	$(PY) -m tests.bench.run $(ARGS)
	$(PY) -m tests.bench.catalog $(if $(findstring --quick,$(ARGS)),--quick,)
	$(PY) -m tests.bench.sales $(if $(findstring --quick,$(ARGS)),--quick,)
	$(PY) -m tests.bench.billing $(if $(findstring --quick,$(ARGS)),--quick,)
	$(PY) -m tests.bench.summary

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

messages: $(STAMP)
	$(PY) manage.py makemessages -l fr -e html,txt,py --ignore=.venv --ignore=.data \
		--ignore=staticfiles --ignore=test-artifacts --ignore=tests --ignore=docs \
		--ignore='*.egg-info' --ignore=media
	$(PY) manage.py compilemessages --ignore=.venv

clean-data:
	rm -rf .data
