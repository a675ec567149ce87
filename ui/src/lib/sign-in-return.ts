import { SIGN_IN_PATH, signInPath } from "./paths";

/** Where the dashboard goes when the proxy refuses the stored admin key (a 401): the sign-in
 * page, saying why, set to return to the page the user was on. */
export interface SignInReturn {
  to: string;
  state: { message: string };
}

/** The way back for a refusal (`message`, the API's) met on `from`; null on the sign-in page
 * itself, where a refusal answers the form (and a second refusal of the same key, arriving
 * after the first sent the user there, must not make the sign-in page its own `next`). */
export function signInReturn(
  from: { pathname: string; search: string },
  message: string,
): SignInReturn | null {
  if (from.pathname === SIGN_IN_PATH) {
    return null;
  }
  return {
    to: signInPath(from.pathname + from.search),
    state: {
      message: `The proxy refused your admin key: ${message} Sign in again to return to this page.`,
    },
  };
}
