"""Web: the Litestar app, the webhook, the JSON API."""
