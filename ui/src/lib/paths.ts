/** The dashboard's own paths that more than one part of it needs. */
export const SIGN_IN_PATH = "/sign-in";

/** Where the sign-in page sends the user back to: `?next=` when it is a page of ours. */
export const NEXT_PARAM = "next";

/** The sign-in page, set to send the user on to `next` (a path of the dashboard, with its query)
 * once signed in. */
export function signInPath(next: string): string {
  return `${SIGN_IN_PATH}?${new URLSearchParams({ [NEXT_PARAM]: next }).toString()}`;
}
