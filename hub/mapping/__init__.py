"""Mapping: turn a lead's fields into what a buyer expects (pure functions)."""
