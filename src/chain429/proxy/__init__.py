"""The OpenAI surface: routes, request parsing, auth, and OpenAI-shaped errors."""
