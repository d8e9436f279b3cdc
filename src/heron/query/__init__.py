"""Heron query."""
