/** The provider types, as `ProviderType` in the proxy's config schema (and the OpenAPI
 * document's enum) lists them. */
export const PROVIDER_TYPES = [
  "openrouter",
  "groq",
  "cerebras",
  "openai",
  "google-ai",
  "mistral",
  "github-models",
  "nvidia-nim",
  "generic-openai",
] as const;

export type ProviderType = (typeof PROVIDER_TYPES)[number];

export { RATE_LIMIT_FIELDS, type RateLimitField } from "../../../api/manual-limits";
import type { ManualLimits } from "../../../api/manual-limits";
export type RateLimits = ManualLimits;

/** A provider as `GET /api/providers` shows it: keys as labels, never the keys. */
export interface ProviderView {
  id: string;
  name: string;
  type: ProviderType;
  keys: { label: string }[];
  baseUrl: string | null;
  timeout: number | null;
  rateLimits: RateLimits | null;
  headers: Record<string, string>;
  keysShareLimits: boolean | null;
  dailyResetTimezone: string | null;
}

/** What `POST /api/providers` and `PUT /api/providers/{id}` take. */
export interface ProviderBody {
  id: string;
  name: string;
  type: ProviderType;
  apiKey?: string;
  apiKeys?: string[];
  baseUrl: string | null;
  timeout: number | null;
  rateLimits: RateLimits | null;
  headers: Record<string, string>;
  keysShareLimits: boolean | null;
  dailyResetTimezone: string | null;
}
