import type { AdminKeyStore } from "./admin-key";
import { ApiError, errorFromResponse } from "./api-error";

/** The one way the dashboard talks to the proxy: every call carries the stored admin key, every
 * failure becomes an `ApiError`, and a 401 forgets the key and hands its message to
 * `onUnauthorized` (which returns to the sign-in page). */
export interface ApiClient {
  request<T>(path: string, init?: RequestInit): Promise<T>;
  /** The answer itself, unread, for a stream (`/api/events`); failures as for `request`. */
  open(path: string, init?: RequestInit): Promise<Response>;
  /** `request`, with the answer's `ETag`: the configuration version a write sends as
   * `If-Match`. */
  requestVersioned<T>(path: string, init?: RequestInit): Promise<Versioned<T>>;
  /** Checks `key` against the management API and keeps it if it is let in; a refusal throws
   * (and does not call `onUnauthorized`: the caller is the sign-in form). */
  signIn(key: string): Promise<void>;
  signOut(): void;
  signedIn(): boolean;
}

export interface Versioned<T> {
  data: T;
  etag: string | null;
}

export interface ApiClientOptions {
  keys: AdminKeyStore;
  onUnauthorized: (message: string) => void;
  fetch?: typeof fetch;
}

/** A management route that any admin key may read: signing in calls it to check the key. */
export const SIGN_IN_PROBE = "/api/settings";

export function createApiClient(options: ApiClientOptions): ApiClient {
  const send = options.fetch ?? ((input, init) => window.fetch(input, init));

  async function call(path: string, key: string | null, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("Accept", "application/json");
    if (key !== null) {
      headers.set("Authorization", `Bearer ${key}`);
    }
    if (typeof init.body === "string" && !headers.has("Content-Type")) {
      headers.set("Content-Type", "application/json");
    }
    let response: Response;
    try {
      response = await send(path, { ...init, headers });
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new ApiError(`Cannot reach the proxy: ${reason}`, 0);
    }
    if (!response.ok) {
      throw await errorFromResponse(response);
    }
    return response;
  }

  async function authorized(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await call(path, options.keys.read(), init);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        options.keys.clear();
        options.onUnauthorized(error.message);
      }
      throw error;
    }
  }

  async function requestVersioned<T>(path: string, init: RequestInit = {}): Promise<Versioned<T>> {
    const response = await authorized(path, init);
    const text = await response.text();
    const data = (text === "" ? undefined : JSON.parse(text)) as T;
    return { data, etag: response.headers.get("ETag") };
  }

  return {
    async request<T>(path: string, init: RequestInit = {}): Promise<T> {
      return (await requestVersioned<T>(path, init)).data;
    },
    requestVersioned,
    open: authorized,
    async signIn(key: string): Promise<void> {
      await call(SIGN_IN_PROBE, key, {});
      options.keys.save(key);
    },
    signOut(): void {
      options.keys.clear();
    },
    signedIn(): boolean {
      return options.keys.read() !== null;
    },
  };
}
