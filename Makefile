# Candor: the two commands of the quick start, and what they need.
#   make demo   run the portal and the console on localhost with a demo reviewer
#   make test   lint, type-check and run the whole test suite (SQLite and PostgreSQL)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CATALOG_DIRS := portal/translations reviewer/translations web/translations

.PHONY: demo test lint typecheck catalogs extract clean bench

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

demo: $(STAMP) catalogs
	$(BIN)/candor demo

lint: $(STAMP)
	$(BIN)/ruff check .

# Every package, strict: the layering and the message-kind table rely on types being exact.
typecheck: $(STAMP)
	$(BIN)/mypy --strict crypto core web portal reviewer cli migrations

test: $(STAMP) catalogs lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benches/crypto_stream.py --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
