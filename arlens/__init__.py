"""AR Lens: accounts-receivable analytics on an embedded DuckDB store."""

__version__ = "0.1.0"
