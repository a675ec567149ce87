import { useMutation } from "@tanstack/react-query";

import type { ApiClient } from "../../../lib/api-client";
import { useApiClient } from "../../../lib/api-context";

/** One entry's answer to `POST /api/test/chain/{name}`: `ok`, `error` (why in `error`) or
 * `skipped` (why in `reason`, free again in `availableInMs`). */
export interface EntryProbe {
  position: number;
  provider: string;
  model: string;
  status: "ok" | "error" | "skipped";
  keyLabel: string | null;
  latencyMs: number | null;
  httpStatus: number | null;
  outcome: string | null;
  response: string | null;
  error: string | null;
  reason: string | null;
  availableInMs: number | null;
}

export interface ChainProbe {
  chain: string;
  results: EntryProbe[];
  summary: { total: number; ok: number; failed: number; skipped: number };
}

export interface ProbeChainInput {
  chain: string;
  prompt?: string;
  maxTokens?: number;
}

export function probeChain(client: ApiClient, input: ProbeChainInput): Promise<ChainProbe> {
  const body: { prompt?: string; maxTokens?: number } = {};
  if (input.prompt !== undefined) {
    body.prompt = input.prompt;
  }
  if (input.maxTokens !== undefined) {
    body.maxTokens = input.maxTokens;
  }
  return client.request<ChainProbe>(`/api/test/chain/${encodeURIComponent(input.chain)}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
}

/** Probes every entry of a chain, one by one; nothing cached, so nothing to invalidate. */
export function useProbeChain() {
  const client = useApiClient();
  return useMutation({ mutationFn: (input: ProbeChainInput) => probeChain(client, input) });
}
