"""Who may use the hub: API tokens (and, later, admin and buyer accounts)."""
