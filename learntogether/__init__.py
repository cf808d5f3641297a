"""To Learn Together (2L2G): intercultural learning in Telegram."""

__version__ = "0.1.0"
