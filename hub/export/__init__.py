"""Export: scheduled lead files (built by the export issue)."""
