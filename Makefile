# Developer gates. `make check` = format, lint, types and the whole test suite.
.PHONY: check fmt lint types test

check: fmt lint types test

fmt:
	.venv/bin/ruff format .

lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports --no-logo --no-cache

types:
	.venv/bin/mypy

test:
	./scripts/test
