# Developer gates. `make check` = format, lint, types and the whole test suite.
.PHONY: check fmt lint types test

check: fmt lint types test

fmt:
	.venv/bin/ruff format .

lint:
	.venv/bin/ruff check .

types:
	.venv/bin/mypy

test:
	./scripts/test
