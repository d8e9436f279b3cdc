"""Heron normalize."""
