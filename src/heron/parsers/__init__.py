"""Heron parsers."""
