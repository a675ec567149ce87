"""The commented example config that `429chain init` writes."""

from __future__ import annotations

EXAMPLE_CONFIG = """\
# 429chain configuration. Validate it with `429chain check --config <file>`.
# Clients send ordinary OpenAI requests; `model` names a chain (or `provider/model`).
# Requests walk the chain and move on when an entry is rate-limited, out of credit or failing.
version: 1

settings:
  host: 127.0.0.1               # listen address; 0.0.0.0 to serve other machines
  port: 3429
  apiKeys:                      # keys clients send as `Authorization: Bearer <key>`
    - "${CHAIN429_API_KEY}"     # ${VAR} is read from the environment (${VAR:-default} too)
  defaultChain: default         # serves any `model` that is not a chain name
  logLevel: info                # trace | debug | info | warn | error | fatal
  cooldownDefaultMs: 60000      # cooldown after a 429 that says nothing about its reset
  requestTimeoutMs: 30000       # per attempt, until the whole answer (or a stream's first content)
  streamIdleTimeoutMs: 30000    # a committed stream silent this long is ended with an error event
  normalizeResponses: false     # move reasoning_content into content for clients that need it
  # queueMode: false            # wait for capacity instead of answering 429 when all are exhausted

providers:
  - id: groq
    name: Groq
    type: groq                  # openrouter | groq | cerebras | openai | google-ai | mistral |
                                # github-models | nvidia-nim | generic-openai
    apiKey: "${GROQ_API_KEY}"
    timeout: 10000              # ms; overrides settings.requestTimeoutMs for this provider

  - id: cerebras
    name: Cerebras
    type: cerebras
    apiKey: "${CEREBRAS_API_KEY}"

  - id: openrouter
    name: OpenRouter
    type: openrouter
    apiKey: "${OPENROUTER_API_KEY}"

  # - id: gemini
  #   name: Google AI Studio
  #   type: google-ai
  #   apiKey: "${GEMINI_API_KEY}"
  #   rateLimits:               # Gemini sends no rate-limit headers: say what you know
  #     requestsPerMinute: 10
  #     requestsPerDay: 250

  # - id: local
  #   type: generic-openai      # any OpenAI-compatible server; baseUrl is required
  #   apiKey: "none"
  #   baseUrl: "http://127.0.0.1:8000/v1"

chains:
  - name: default
    entries:
      - provider: groq
        model: llama-3.1-8b-instant
      - provider: cerebras
        model: llama3.1-8b
      - provider: openrouter
        model: "meta-llama/llama-3.3-70b-instruct:free"
"""
