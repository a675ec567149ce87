import { useEffect, useState } from "react";

/** `72_500` → `1m 13s`, `3_700_000` → `1h 01m 40s`; whole seconds, rounded up so a countdown
 * reads `0s` only once the moment has come. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (value: number) => String(value).padStart(2, "0");
  if (hours > 0) {
    return `${hours}h ${pad(minutes)}m ${pad(seconds)}s`;
  }
  if (minutes > 0) {
    return `${minutes}m ${pad(seconds)}s`;
  }
  return `${seconds}s`;
}

interface CountdownProps {
  /** The moment counted down to, in epoch milliseconds. */
  until: number;
  /** Shown once the moment has passed. */
  done?: string;
}

/** The time left until `until`, ticking each second, as a `<time>` carrying the moment. */
export function Countdown({ until, done = "now" }: CountdownProps) {
  const [now, setNow] = useState(() => Date.now());
  const passed = now >= until;
  useEffect(() => {
    if (passed) {
      return undefined;
    }
    const timer = setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      clearInterval(timer);
    };
  }, [passed]);
  const moment = new Date(until);
  return (
    <time className="countdown" dateTime={moment.toISOString()} title={moment.toLocaleString()}>
      {passed ? done : formatRemaining(until - now)}
    </time>
  );
}
