/** `123.4` → `123 ms`, `2345` → `2.35 s`; `—` when there is no figure. */
export function formatMs(value: number | null): string {
  if (value === null) {
    return "—";
  }
  if (value < 1000) {
    return `${Math.round(value)} ms`;
  }
  return `${(value / 1000).toFixed(2)} s`;
}

/** A rate of 0–1 as a percentage, one decimal when under 10 %: `0.0421` → `4.2%`. */
export function formatRate(rate: number): string {
  const percent = rate * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

export function formatCount(value: number | null): string {
  return value === null ? "—" : value.toLocaleString();
}

/** A bucket's start on a time axis: the hour and minute, with the weekday over a week. */
export function formatTick(t: number, spanMs: number): string {
  const options: Intl.DateTimeFormatOptions =
    spanMs > 86_400_000
      ? { weekday: "short", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" };
  return new Date(t).toLocaleString(undefined, options);
}
