"""Writes for the transactions app; see `ingest` (the import pipeline) and `companies` (tenants and charts)."""
