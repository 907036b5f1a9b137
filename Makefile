# Candor: the two commands of the quick start, and what they need.
#   make demo   run the portal and the console on localhost with a demo reviewer
#   make test   lint, type-check and run the whole test suite (SQLite and PostgreSQL)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CHROMIUM ?= /usr/bin/chromium
CATALOG_DIRS := portal/translations reviewer/translations web/translations

.PHONY: demo test lint typecheck catalogs extract clean bench check-system mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Compiled message catalogs (.mo) are build products, made from the .po files in the repo.
catalogs: $(STAMP)
	@for dir in $(CATALOG_DIRS); do \
	  if [ -d $$dir ]; then $(BIN)/pybabel -q compile -d $$dir || exit 1; fi; \
	done

# After changing user-facing text: refresh each app's template (.pot) and both catalogs (.po),
# then translate the new entries of zh_Hans_CN (docs/GLOSSARY.md); tests/test_catalogs.py
# fails on an untranslated one. Lines are not wrapped, so a diff shows whole messages.
extract: $(STAMP)
	@for app in portal reviewer web; do \
	  $(BIN)/pybabel -q extract -F $$app/babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
	    --no-wrap -o $$app/translations/messages.pot $$app || exit 1; \
	  $(BIN)/pybabel -q update --no-wrap --ignore-obsolete --no-fuzzy-matching \
	    -i $$app/translations/messages.pot -d $$app/translations || exit 1; \
	done
	@# A catalog whose only change is its POT-Creation-Date is put back as it was, so that a
	@# run that changes no message leaves the working tree clean (in a git checkout only).
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  for file in $$(git diff --name-only -- '*/translations/*.pot' '*/translations/*.po'); do \
	    if git diff --quiet -I'^"POT-Creation-Date: ' -- "$$file"; then \
	      git checkout -q -- "$$file"; \
	    fi; \
	  done; \
	fi

demo: $(STAMP) catalogs
	$(BIN)/candor demo

lint: $(STAMP)
	$(BIN)/ruff check .

# Every package, strict: the layering and the message-kind table rely on types being exact.
typecheck: $(STAMP)
	$(BIN)/mypy --strict crypto core web portal reviewer cli migrations

# What the tests need from the system besides Python: Debian's Chromium for the browser tests,
# CJK fonts for readable Chinese screenshots. Missing ones are named with the command that
# installs them; locally the browser tests are then skipped, in CI (CI=true) this fails.
check-system:
	@missing=""; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	[ -d /usr/share/fonts/opentype/noto ] || missing="$$missing fonts-noto-cjk"; \
	ldconfig -p | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing" ]; then \
	  echo "make test: missing system packages:$$missing (install: sudo apt-get install$$missing);" \
	       "the browser tests will be skipped"; \
	  if [ -n "$$CI" ]; then exit 1; fi; \
	fi

# The tests run in one process per core (pytest-xdist; TEST_WORKERS=0 runs them in this one):
# each worker makes its own PostgreSQL template and claims its own Redis databases.
TEST_WORKERS ?= auto

test: $(STAMP) catalogs lint typecheck check-system
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Mutation testing of crypto/, the throttle and the security headers (a few minutes; not part
# of `make test` or CI). Configuration: [tool.mutmut] in pyproject.toml; the survivors that
# may stay, and why: tests/MUTATION.md. Each run starts afresh (cached verdicts go stale when
# tests change). MUTATE_ARGS narrows a run, e.g.  make mutate MUTATE_ARGS='"web.headers*"'
mutate: $(STAMP)
	$(BIN)/pip install --quiet 'mutmut>=3.8,<4'
	rm -rf mutants
	$(BIN)/mutmut run $(MUTATE_ARGS); $(BIN)/mutmut results

bench: $(STAMP)
	$(BIN)/python benches/crypto_stream.py --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
