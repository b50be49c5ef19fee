"""The admin pages: everything `leadhub apply` can configure, in the browser."""
