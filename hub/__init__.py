"""Leadhub: a self-hosted lead delivery hub."""

__version__ = "0.1.0"
