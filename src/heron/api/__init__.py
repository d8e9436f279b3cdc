"""Heron's HTTP application: ingest routes, health and metrics, and (later) the API."""
