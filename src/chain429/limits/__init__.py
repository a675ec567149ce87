"""Rate-limit intelligence: per (provider, key, model) state, admission, cooldowns.

Pure logic on an injected clock: nothing here does I/O or imports the web layer.
"""
