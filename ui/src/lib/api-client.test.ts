import { describe, expect, it, vi } from "vitest";

import type { AdminKeyStore } from "./admin-key";
import { SIGN_IN_PROBE, createApiClient } from "./api-client";
import { ApiError } from "./api-error";

function memoryKeys(initial: string | null): AdminKeyStore & { current: string | null } {
  const store = {
    current: initial,
    read: () => store.current,
    save: (key: string) => {
      store.current = key;
    },
    clear: () => {
      store.current = null;
    },
  };
  return store;
}

function answering(status: number, body: unknown) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return vi.fn<typeof fetch>(() => Promise.resolve(new Response(text, { status })));
}

function setup(status: number, body: unknown, key: string | null = "adm-key") {
  const keys = memoryKeys(key);
  const fetch = answering(status, body);
  const onUnauthorized = vi.fn<(message: string) => void>();
  const client = createApiClient({ keys, onUnauthorized, fetch });
  return { keys, fetch, onUnauthorized, client };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ApiError)) {
    throw new Error(`expected an ApiError, got ${String(error)}`);
  }
  return error;
}

describe("the API client", () => {
  it("sends the stored admin key and returns the JSON answer", async () => {
    const { client, fetch } = setup(200, { chains: [] });

    await expect(client.request("/api/chains")).resolves.toEqual({ chains: [] });

    const [path, init] = fetch.mock.calls[0] ?? [];
    expect(path).toBe("/api/chains");
    expect(new Headers(init?.headers).get("Authorization")).toBe("Bearer adm-key");
  });

  it("returns the answer's ETag with its JSON when asked for the version", async () => {
    const keys = memoryKeys("adm-key");
    const answer = new Response('{"providers": []}', { status: 200, headers: { ETag: '"v7"' } });
    const send = vi.fn<typeof globalThis.fetch>(() => Promise.resolve(answer));
    const client = createApiClient({ keys, onUnauthorized: vi.fn(), fetch: send });

    await expect(client.requestVersioned("/api/providers")).resolves.toEqual({
      data: { providers: [] },
      etag: '"v7"',
    });
  });

  it("reads the OpenAI error shape into a message, a field and a code", async () => {
    const body = {
      error: {
        message: "baseUrl: not a URL",
        type: "invalid_request_error",
        param: "providers[2].baseUrl",
        code: "invalid_config",
      },
    };
    const { client, keys, onUnauthorized } = setup(422, body);

    const error = await failure(client.request("/api/providers", { method: "POST", body: "{}" }));

    expect(error.message).toBe("baseUrl: not a URL");
    expect(error.field).toBe("providers[2].baseUrl");
    expect(error.code).toBe("invalid_config");
    expect(error.status).toBe(422);
    expect(keys.current).toBe("adm-key");
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("keeps the whole answer of an OpenAI-shaped error, for the fields beside it", async () => {
    const body = { attempts: [{ position: 0 }], error: { message: "All entries exhausted." } };
    const { client } = setup(503, body);

    const error = await failure(client.open("/api/test", { method: "POST", body: "{}" }));

    expect(error.message).toBe("All entries exhausted.");
    expect(error.body).toEqual(body);
  });

  it("reads the original 429chain's string errors and bodies that are not JSON", async () => {
    const original = await failure(
      setup(400, { error: "Cannot delete default chain" }).client.request("/v1/admin/chains/x"),
    );
    expect(original.message).toBe("Cannot delete default chain");
    expect(original.field).toBeNull();

    const html = await failure(setup(502, "<html>bad gateway</html>").client.request("/api/x"));
    expect(html.message).toBe("The proxy answered 502.");
    expect(html.status).toBe(502);
  });

  it("turns a proxy it cannot reach into an ApiError with status 0", async () => {
    const keys = memoryKeys("adm-key");
    const unreachable = vi.fn<typeof fetch>(() => Promise.reject(new TypeError("Failed to fetch")));
    const client = createApiClient({ keys, onUnauthorized: vi.fn(), fetch: unreachable });

    const error = await failure(client.request("/api/settings"));

    expect(error.status).toBe(0);
    expect(error.message).toBe("Cannot reach the proxy: Failed to fetch");
  });

  it("forgets the key on a 401 and hands the message to onUnauthorized", async () => {
    const body = { error: { message: "Incorrect API key provided.", code: "invalid_api_key" } };
    const { client, keys, onUnauthorized } = setup(401, body);

    const error = await failure(client.request("/api/settings"));

    expect(error.status).toBe(401);
    expect(error.code).toBe("invalid_api_key");
    expect(keys.current).toBeNull();
    expect(client.signedIn()).toBe(false);
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith("Incorrect API key provided.");
  });

  it("keeps a key that signing in checked, and refuses one the proxy refuses", async () => {
    const accepted = setup(200, { port: 3429 }, null);
    await accepted.client.signIn("adm-good");
    expect(accepted.keys.current).toBe("adm-good");
    const [path, init] = accepted.fetch.mock.calls[0] ?? [];
    expect(path).toBe(SIGN_IN_PROBE);
    expect(new Headers(init?.headers).get("Authorization")).toBe("Bearer adm-good");

    const refused = setup(401, { error: { message: "Incorrect API key provided." } }, null);
    const error = await failure(refused.client.signIn("adm-bad"));
    expect(error.message).toBe("Incorrect API key provided.");
    expect(refused.keys.current).toBeNull();
    expect(refused.onUnauthorized).not.toHaveBeenCalled();
  });
});
