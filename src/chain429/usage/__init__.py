"""Usage: request and attempt records, their storage, statistics and metrics."""
