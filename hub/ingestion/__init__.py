"""Ingestion: webhook bodies in, validated leads and their dispatches out."""
