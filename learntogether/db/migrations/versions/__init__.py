"""Alembic revisions, numbered 0001, 0002 …; Alembic skips this file."""
