"""Heron's web UI: server-rendered pages under ``/ui/`` (Jinja2 templates, inline SVG charts)."""

from __future__ import annotations

from heron.web.routes import web_routes

__all__ = ["web_routes"]
