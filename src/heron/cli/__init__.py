"""Heron cli."""
