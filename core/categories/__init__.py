"""Categories of report: lookup by code, and the admin use cases (routing of new reports)."""
