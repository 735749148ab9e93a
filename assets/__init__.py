"""Dagster layer of xxgk: thin assets over pipeline/ (see assets.definitions)."""
