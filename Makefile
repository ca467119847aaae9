# The whole set-up is two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: run test lint pytest install install-dev translations i18n browser documents bench clean

run: install translations
	$(BIN)/flask --app wsgi init-db --demo-if-empty
	$(BIN)/flask --app wsgi demo-accounts
	@echo "Serving on http://127.0.0.1:$(PORT) (task queue consumer beside it: reminders, snapshots, publishing)"
	@trap 'kill $$consumer 2>/dev/null' EXIT INT TERM; \
	$(BIN)/huey_consumer portal.tasks.huey --workers 1 --worker-type thread --quiet & consumer=$$!; \
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: install-dev translations browser documents node_modules/.installed lint pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/bandit --quiet --recursive --severity-level medium portal wsgi.py

# Outside judges for the tests (axe-core, the Nu Html Checker): npm packages, pinned in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# The suite on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set (see .ci/run).
pytest:
	$(BIN)/pytest -n $(or $(PYTEST_WORKERS),2) --durations=30 $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

translations: install
	$(BIN)/pybabel compile --statistics -d portal/translations 2>&1 | tail -n 1

# After adding user-visible strings: extract them and merge into the catalog, then translate.
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o messages.pot . >/dev/null
	$(BIN)/pybabel update -i messages.pot -d portal/translations -l zh --no-fuzzy-matching
	rm -f messages.pot

# Browser tests drive Debian's Chromium; install it (and CJK fonts, and zbar-tools whose zbarimg decodes the
# appraisal slips' QR codes) when missing and we can.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto sans cjk" \
	    || ! command -v zbarimg >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing chromium, fonts-noto-cjk and zbar-tools..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk zbar-tools >/dev/null; \
	  else \
	    echo "Chromium or zbarimg is missing: install the Debian packages 'chromium', 'fonts-noto-cjk' and 'zbar-tools'." >&2; exit 1; \
	  fi; \
	fi

# The 通报's PDF (WeasyPrint needs Debian's pango and harfbuzz-subset) and the tests' document tools:
# pdftoppm (poppler-utils) turns PDF pages into images, zbarimg (zbar-tools) decodes QR codes.
DOCUMENT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils zbar-tools
documents:
	@if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v zbarimg >/dev/null 2>&1 \
	    || ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" \
	    || ! ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0"; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing $(DOCUMENT_PACKAGES)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DOCUMENT_PACKAGES) >/dev/null; \
	  else \
	    echo "Install the Debian packages: $(DOCUMENT_PACKAGES)" >&2; exit 1; \
	  fi; \
	fi

# Timings (ratios to /healthz), query counts at 10 and 300 branches, fragment sizes; then the 60 s soak.
bench: install-dev translations
	$(BIN)/python -m bench
	SOAK_SECONDS=60 $(BIN)/pytest -q -p no:xdist tests/web/test_soak.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache test-artifacts
