import { queryOptions, useQuery } from "@tanstack/react-query";
import { z } from "zod";

import type { ApiClient } from "../lib/api-client";
import { useApiClient } from "../lib/api-context";

/** One replica sharing the proxy's Redis; times are epoch milliseconds. */
export const replicaSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  version: z.string(),
  startedAt: z.number(),
  lastSeen: z.number(),
  watching: z.boolean(),
});

export type Replica = z.infer<typeof replicaSchema>;

/** `GET /api/replicas`: whose limit state the dashboard shows (`memory`: one process,
 * `shared`: the fleet's through Redis, `local`: Redis unreachable) and the replicas seen. */
export const replicasSchema = z.object({
  stateStore: z.enum(["memory", "shared", "local"]),
  selfId: z.string().nullable(),
  replicas: z.array(replicaSchema),
});

export type Replicas = z.infer<typeof replicasSchema>;

export async function getReplicas(client: ApiClient): Promise<Replicas> {
  return replicasSchema.parse(await client.request<unknown>("/api/replicas"));
}

/** Replicas come and go, and Redis too: read again every few seconds. */
export function getReplicasQueryOptions(client: ApiClient) {
  return queryOptions({
    queryKey: ["replicas"],
    queryFn: () => getReplicas(client),
    refetchInterval: 5_000,
  });
}

export function useReplicas() {
  const client = useApiClient();
  return useQuery(getReplicasQueryOptions(client));
}
