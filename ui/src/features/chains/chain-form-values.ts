import { z } from "zod";

import type { ChainEntry } from "../../api/chain-types";
import { RATE_LIMIT_FIELDS, type LimitTexts, type ManualLimits, type RateLimitField } from "../../api/manual-limits";

/** A stable id for an entry in a sortable list: the pair is unique within a chain. */
export function entryId(entry: ChainEntry): string {
  return `${entry.provider}/${entry.model}`;
}

/** The entries with the one at `from` moved to `to` (the others keep their order). */
export function moveEntry<T>(entries: readonly T[], from: number, to: number): T[] {
  const moved = [...entries];
  const [entry] = moved.splice(from, 1);
  if (entry === undefined) {
    return moved;
  }
  moved.splice(to, 0, entry);
  return moved;
}

const entrySchema = z.object({
  provider: z.string().trim().min(1, "Pick a provider."),
  model: z.string().trim().min(1, "Pick or type a model."),
});

/** An entry to add: a provider and a model, not already in the chain. */
export function parseEntry(
  draft: { provider: string; model: string },
  entries: readonly ChainEntry[],
): { ok: true; entry: ChainEntry } | { ok: false; error: string } {
  const parsed = entrySchema.safeParse(draft);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues[0]?.message ?? "Invalid entry." };
  }
  if (entries.some((entry) => entryId(entry) === entryId(parsed.data))) {
    return { ok: false, error: `${entryId(parsed.data)} is already in this chain.` };
  }
  return { ok: true, entry: parsed.data };
}

const newChainSchema = z.object({
  name: z.string().trim().min(1, "Name the chain."),
  entries: z
    .array(z.object({ provider: z.string(), model: z.string() }))
    .min(1, "Add at least one entry."),
});

export type NewChainResult =
  | { ok: true; chain: { name: string; entries: ChainEntry[] } }
  | { ok: false; errors: Partial<Record<"name" | "entries", string>> };

export function parseNewChain(values: { name: string; entries: ChainEntry[] }): NewChainResult {
  const parsed = newChainSchema.safeParse(values);
  if (parsed.success) {
    return { ok: true, chain: parsed.data };
  }
  const errors: Partial<Record<"name" | "entries", string>> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path[0] === "name" ? "name" : "entries";
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}

const SUMMARY_UNITS: Record<RateLimitField, string> = {
  requestsPerMinute: "/min",
  requestsPerHour: "/h",
  requestsPerDay: "/day",
  tokensPerMinute: " tok/min",
  tokensPerDay: " tok/day",
  concurrentRequests: " at once",
};

/** An entry's limits in a few words ("30/min · 1,000/day"), or null when it has none. */
export function limitsSummary(limits: ManualLimits | null | undefined): string | null {
  const parts = RATE_LIMIT_FIELDS.flatMap((field) => {
    const limit = limits?.[field];
    return limit == null ? [] : [`${limit.toLocaleString("en-US")}${SUMMARY_UNITS[field]}`];
  });
  return parts.length === 0 ? null : parts.join(" · ");
}

export type LimitsResult =
  | { ok: true; limits: ManualLimits | null }
  | { ok: false; errors: Partial<Record<RateLimitField, string>> };

/** The limits typed in an entry's form: empty ones left out, none at all is null (no limits). */
export function parseLimits(texts: LimitTexts): LimitsResult {
  const limits: ManualLimits = {};
  const errors: Partial<Record<RateLimitField, string>> = {};
  for (const field of RATE_LIMIT_FIELDS) {
    const text = texts[field].trim().replaceAll(",", "");
    if (text === "") {
      continue;
    }
    if (!/^\d+$/.test(text) || Number(text) < 1) {
      errors[field] = "A limit is a whole number above 0.";
      continue;
    }
    limits[field] = Number(text);
  }
  if (Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return { ok: true, limits: Object.keys(limits).length === 0 ? null : limits };
}

/** The entries with the one at `index` given `limits` (null: none). */
export function withLimits(
  entries: readonly ChainEntry[],
  index: number,
  limits: ManualLimits | null,
): ChainEntry[] {
  return entries.map((entry, i) => {
    if (i !== index) {
      return entry;
    }
    const { provider, model } = entry;
    return limits === null ? { provider, model } : { provider, model, rateLimits: limits };
  });
}

/** Where an API error's `param` (`entries[1].rateLimits.requestsPerDay`) points: the entry and
 * the limit, or null when it names no entry's limit. */
export function limitErrorAt(param: string | null): { index: number; field: string } | null {
  const match = /^(?:chains\[\d+\]\.)?entries\[(\d+)\]\.rateLimits\.(\w+)$/.exec(param ?? "");
  if (match === null) {
    return null;
  }
  return { index: Number(match[1]), field: match[2] ?? "" };
}
