"""Fakes shared by tests: each implements the Protocol (port) it stands for, so a fake that
misses a method fails the type check, not a test run."""
