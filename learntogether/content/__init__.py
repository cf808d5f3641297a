"""The curriculum: the lesson and track documents, their validation, and lesson files."""
