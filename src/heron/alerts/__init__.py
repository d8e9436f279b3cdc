"""Heron alerts."""
