# Two commands a new machine needs: `make run` and `make test`. Each sets itself up.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: run test lint chromium redis clean translations translations-extract translations-update

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The desk in sandbox mode: credentials are cleared so orders never reach a real shop.
run: $(STAMP)
	@echo "Order Desk (sandbox mode) on http://127.0.0.1:$(PORT)"
	env -u JUSTCLICK_USERNAME -u JUSTCLICK_API_KEY $(VENV)/bin/flask --app webapp run --port $(PORT)

# The packages' seams first (pyproject.toml, [tool.importlinter]): seconds, before minutes of tests.
# Then the tests, one worker per core (at most four: each drives its own chromium); a worker that
# finishes early takes tests from a busy one, so the slow browser tests do not all end up on one.
test: $(STAMP) chromium redis
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -n auto --maxprocesses=4 --dist worksteal

lint: $(STAMP)
	$(VENV)/bin/ruff check webapp tests bench

# Translations: extract the marked strings into the template, merge it into each language's
# catalogue, then compile. The compiled .mo files are committed, so a deploy that only runs
# pip install has them (tests/test_translations.py checks they match their .po).
POT      ?= webapp/translations/messages.pot
PYBABEL  := $(VENV)/bin/pybabel

translations-extract: $(STAMP)
	$(PYBABEL) -q extract -F babel.cfg -k _l -k lazy_gettext -k Words -k plural_forms:1,2 --add-location=file --sort-by-file \
	  --project="Order Desk" --msgid-bugs-address="" -o $(POT) .

translations-update: translations-extract
	$(PYBABEL) -q update -i $(POT) -d webapp/translations --no-fuzzy-matching --ignore-obsolete

translations: $(STAMP)
	$(PYBABEL) -q compile -d webapp/translations --statistics

# Browser tests drive Debian's chromium; install it when missing and we may (root).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	  else echo "chromium is missing: sudo apt-get install --no-install-recommends chromium"; fi; }

# The Redis tests start their own redis-server; install it when missing and we may.
redis:
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server; \
	  else echo "redis-server is missing: sudo apt-get install redis-server"; fi; }

clean:
	rm -rf $(VENV) instance .pytest_cache
