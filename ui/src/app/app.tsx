import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "react-router/dom";

import { sessionKeyStore } from "../lib/admin-key";
import { createApiClient, type ApiClient } from "../lib/api-client";
import { ApiClientContext } from "../lib/api-context";
import { createQueryClient } from "../lib/react-query";
import { signInReturn } from "../lib/sign-in-return";
import { createAppRouter } from "./router";

/** Everything the dashboard holds for the tab's life, made once at start. */
export interface Dashboard {
  client: ApiClient;
  queryClient: ReturnType<typeof createQueryClient>;
  router: ReturnType<typeof createAppRouter>;
}

export function createDashboard(): Dashboard {
  const queryClient = createQueryClient();
  const client = createApiClient({
    keys: sessionKeyStore(),
    onUnauthorized: (message) => {
      queryClient.clear();
      const back = signInReturn(router.state.location, message);
      if (back !== null) {
        void router.navigate(back.to, { state: back.state });
      }
    },
  });
  const router = createAppRouter(client);
  return { client, queryClient, router };
}

export function App({ dashboard }: { dashboard: Dashboard }) {
  return (
    <ApiClientContext value={dashboard.client}>
      <QueryClientProvider client={dashboard.queryClient}>
        <RouterProvider router={dashboard.router} />
      </QueryClientProvider>
    </ApiClientContext>
  );
}
