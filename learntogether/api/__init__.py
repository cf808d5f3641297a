"""The admin API (FastAPI)."""
