"""Heron sources."""
