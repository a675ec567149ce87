import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";

import type { ApiClient } from "../lib/api-client";
import { ApiClientContext } from "../lib/api-context";

/** What the fake API answers a path with (its query string ignored): a JSON answer, or an error
 * to throw, as `ApiClient` throws an `ApiError`. */
export type FakeAnswers = Record<string, unknown>;

function answerFor(answers: FakeAnswers, path: string): Promise<unknown> {
  const route = path.split("?")[0] ?? path;
  if (!(route in answers)) {
    return Promise.reject(new Error(`the fake API has no answer for ${route}`));
  }
  const answer = answers[route];
  return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
}

/** An API client answering from `answers`; its event stream stays open and silent. */
export function fakeApiClient(answers: FakeAnswers): ApiClient {
  // Typed as whatever the caller asks for, as the real client's parsed JSON is.
  const answer = (path: string) => answerFor(answers, path) as Promise<never>;
  return {
    request: answer,
    requestVersioned: async (path: string) => ({ data: await answer(path), etag: '"v1"' }),
    open: () => Promise.resolve(new Response(new ReadableStream<Uint8Array>())),
    signIn: () => Promise.resolve(),
    signOut: () => undefined,
    signedIn: () => true,
  };
}

/** Renders `ui` as a page of the dashboard renders: with a query client (no retries) and the
 * fake API client. */
export function renderWithApi(ui: ReactElement, answers: FakeAnswers) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <ApiClientContext value={fakeApiClient(answers)}>
      <QueryClientProvider client={queryClient}>{ui}</QueryClientProvider>
    </ApiClientContext>,
  );
}
