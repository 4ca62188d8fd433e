# OMS: two commands. `make run` starts everything; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test install migrate demo admin lint format bench-api screenshots clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

# axe-core for the browser tests' accessibility checks, exactly as package-lock.json pins it
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) $(NODE_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo_ontology

admin: migrate
	$(PY) manage.py ensure_admin

run: demo admin
	@echo "OMS on http://$${OMS_BIND:-127.0.0.1:8000}  (admin: /admin/, API: /api/v1/, docs: /api/docs/)"
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# the browser suite, keeping a screenshot of each audited page (light and dark) for review
screenshots: install
	rm -rf var/screenshots
	OMS_SCREENSHOT_DIR=var/screenshots $(PY) -m pytest -m browser -p no:randomly -q
	@echo "screenshots in var/screenshots/"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-api: install
	$(PY) bench/api.py

clean:
	rm -rf var/ .pytest_cache node_modules
