import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import type { ApiClient } from "../../../lib/api-client";
import { prependRequest } from "./follow-requests";
import { getRequestsQueryOptions } from "./get-requests";
import { NO_FILTERS, matchesFilters, type RequestFilters, type RequestRow } from "./types";

function row(requestId: string, changes: Partial<RequestRow> = {}): RequestRow {
  return {
    id: null,
    requestId,
    timestamp: 1000,
    endpoint: "/chat/completions",
    chain: "default",
    requestedModel: "default",
    provider: "groq",
    model: "llama",
    keyLabel: "…abcd",
    status: 200,
    streamed: false,
    attemptCount: 1,
    promptTokens: 1,
    completionTokens: 1,
    totalTokens: 2,
    latencyMs: 10,
    ttftMs: null,
    queuedMs: null,
    errorClass: null,
    clientClosed: false,
    attempts: [],
    ...changes,
  };
}

const client = {} as ApiClient;

function cached(queryClient: QueryClient, filters: RequestFilters, rows: RequestRow[]) {
  const { queryKey } = getRequestsQueryOptions(client, filters);
  queryClient.setQueryData(queryKey, { data: rows, nextCursor: null });
  return () => queryClient.getQueryData(queryKey)?.data.map((known) => known.requestId);
}

describe("a live request", () => {
  it("goes on top of every cached log it matches, once", () => {
    const queryClient = new QueryClient();
    const all = cached(queryClient, NO_FILTERS, [row("old")]);
    const limited = cached(queryClient, { ...NO_FILTERS, status: "429" }, []);
    const groq = cached(queryClient, { ...NO_FILTERS, provider: "groq" }, []);

    prependRequest(queryClient, row("new"));
    prependRequest(queryClient, row("new"));

    expect(all()).toEqual(["new", "old"]);
    expect(limited()).toEqual([]);
    expect(groq()).toEqual(["new"]);
  });

  it("matches the outcome filters as the server does", () => {
    const filter = (status: RequestFilters["status"]) => ({ ...NO_FILTERS, status });

    expect(matchesFilters(row("a", { status: 429 }), filter("429"))).toBe(true);
    expect(matchesFilters(row("a", { status: 429 }), filter("4xx"))).toBe(true);
    expect(matchesFilters(row("a", { status: 502 }), filter("4xx"))).toBe(false);
    expect(matchesFilters(row("a", { status: 502 }), filter("error"))).toBe(true);
    expect(matchesFilters(row("a", { status: 200 }), filter("success"))).toBe(true);
    expect(matchesFilters(row("a", { status: 200 }), filter("error"))).toBe(false);
    expect(matchesFilters(row("a", { status: null }), filter("error"))).toBe(false);
    expect(matchesFilters(row("a", { status: null }), NO_FILTERS)).toBe(true);
    expect(matchesFilters(row("a", { chain: "fast" }), { ...NO_FILTERS, chain: "default" })).toBe(
      false,
    );
  });
});
