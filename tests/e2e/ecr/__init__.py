"""Helpers for tests/e2e/ecr_api.py."""
