"""Stores: the in-memory twin, and the SQL store (SQLite by default, PostgreSQL in production)."""
