"""Heron enrich."""
