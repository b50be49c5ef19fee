"""Pytest fixtures of the Leadhub test kit, loaded automatically once leadhub is installed."""

from __future__ import annotations
