"""Documents the platform hands out as files (certificates), rendered without network access."""
