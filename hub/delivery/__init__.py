"""Delivery: the outbox, the generic worker actor, retries and the sweeper."""
