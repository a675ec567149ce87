"""The management API: statistics, metrics and (later) providers, chains and settings."""
