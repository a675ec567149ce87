import type { StateStoreView } from "../../../api/ratelimit-types";

/** Whose limits the page shows, when replicas share Redis: the fleet's, or this replica's
 * alone while Redis is unreachable. Nothing for one process (the memory store). */
export function ViewScope({ view }: { view: StateStoreView | undefined }) {
  if (view === "shared") {
    return (
      <p className="view-scope">
        Fleet-wide: remaining, in flight and cooldowns of every replica, shared through Redis.
      </p>
    );
  }
  if (view === "local") {
    return (
      <p className="notice view-scope">
        This replica only: Redis is unreachable, so other replicas&apos; requests and cooldowns
        are not counted here until it answers again.
      </p>
    );
  }
  return null;
}
