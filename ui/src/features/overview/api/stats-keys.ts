/** The prefix of every statistics query of the Overview, for refetching them all when a
 * request is recorded. */
export const OVERVIEW_STATS_KEY = ["overview", "stats"] as const;
