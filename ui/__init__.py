"""Leadhub's web pages: Jinja templates and static files (a small stylesheet and vendored htmx)."""

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
