"""Attacks an insider or a broken peer could try, each performed and refused (issue 12)."""
