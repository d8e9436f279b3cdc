"""Heron detect."""
