/** Manual rate limits, as `RateLimits` in the proxy's config schema: set on a provider or on a
 * chain entry, used where the provider's headers say nothing. */
export const RATE_LIMIT_FIELDS = [
  "requestsPerMinute",
  "requestsPerHour",
  "requestsPerDay",
  "tokensPerMinute",
  "tokensPerDay",
  "concurrentRequests",
] as const;

export type RateLimitField = (typeof RATE_LIMIT_FIELDS)[number];
export type ManualLimits = Partial<Record<RateLimitField, number | null>>;

export const LIMIT_NAMES: Record<RateLimitField, string> = {
  requestsPerMinute: "Requests per minute",
  requestsPerHour: "Requests per hour",
  requestsPerDay: "Requests per day",
  tokensPerMinute: "Tokens per minute",
  tokensPerDay: "Tokens per day",
  concurrentRequests: "Concurrent requests",
};

/** Each limit as typed in a form: "" when not set. */
export type LimitTexts = Record<RateLimitField, string>;

export function limitTexts(limits: ManualLimits | null | undefined): LimitTexts {
  return Object.fromEntries(
    RATE_LIMIT_FIELDS.map((field) => {
      const limit = limits?.[field];
      return [field, limit == null ? "" : String(limit)];
    }),
  ) as LimitTexts;
}
