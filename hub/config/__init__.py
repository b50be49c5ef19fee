"""Configuration as code: `leadhub apply` and `leadhub dump`."""
