"""Persistence: the engine and sessions, the models, and the Alembic migrations."""
