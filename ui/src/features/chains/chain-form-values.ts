import { z } from "zod";

import type { ChainEntry } from "../../api/chain-types";

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
