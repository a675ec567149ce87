export interface ChainEntry {
  provider: string;
  model: string;
  rateLimits?: Record<string, number | null> | null;
}

export interface ChainView {
  name: string;
  entries: ChainEntry[];
  isDefault: boolean;
}
