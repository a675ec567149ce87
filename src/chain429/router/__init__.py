"""The waterfall: walk a chain, ask limits for admission, call the provider, decide."""
