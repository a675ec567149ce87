import { z } from "zod";

/** One entry the waterfall considered for a test prompt: skipped (no call), failed, or served. */
export const attemptSchema = z.object({
  position: z.number(),
  provider: z.string(),
  model: z.string(),
  keyLabel: z.string().nullable(),
  outcome: z.string(),
  status: z.number().nullable(),
  reason: z.string(),
  latencyMs: z.number(),
});
export type Attempt = z.infer<typeof attemptSchema>;

const errorSchema = z.object({
  message: z.string(),
  type: z.string().optional(),
  param: z.string().nullable().optional(),
  code: z.string().nullable().optional(),
});

/** What `POST /api/test` answers (the `result` event of a stream): `error` when no entry
 * served. */
export const promptResultSchema = z.object({
  requestId: z.string(),
  chain: z.string(),
  status: z.number(),
  text: z.string().nullable(),
  servedBy: z
    .object({ provider: z.string(), model: z.string(), keyLabel: z.string().nullable() })
    .nullable(),
  attempts: z.array(attemptSchema),
  tokens: z.object({
    prompt: z.number().nullable(),
    completion: z.number().nullable(),
    total: z.number().nullable(),
  }),
  latencyMs: z.number(),
  ttftMs: z.number().nullable(),
  queuedMs: z.number().nullable(),
  error: errorSchema.optional(),
});
export type PromptResult = z.infer<typeof promptResultSchema>;

/** A `delta` event: text as it arrived; `reasoning` when it is the model's reasoning. */
export const deltaSchema = z.object({ text: z.string(), reasoning: z.boolean() });

/** An `error` event: what broke the stream mid-way. */
export const streamErrorSchema = z.object({ error: errorSchema });

/** The body of `POST /api/test`, as the playground sends it. */
export interface PromptTestBody {
  chain?: string;
  provider?: string;
  model?: string;
  prompt?: string;
  messages?: { role: "system" | "user"; content: string }[];
  maxTokens?: number;
  temperature?: number;
  stream: true;
}
