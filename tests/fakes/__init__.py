"""Test doubles shared by several test modules, type-checked against the Protocols they
implement (mypy runs on tests/ too)."""
