import { Suspense, lazy } from "react";
import { createBrowserRouter, redirect, type RouteObject } from "react-router";

import type { ApiClient } from "../lib/api-client";
import { Layout } from "./layout";
import { NotFound } from "./not-found";
import { SIGN_IN_PATH, signInPath } from "../lib/paths";
import { PAGES } from "./pages";

const SignInPage = lazy(() => import("../features/sign-in/sign-in-page"));

export function appRoutes(client: ApiClient): RouteObject[] {
  return [
    {
      path: SIGN_IN_PATH,
      element: (
        <Suspense fallback={<p role="status">Loading…</p>}>
          <SignInPage />
        </Suspense>
      ),
    },
    {
      path: "/",
      element: <Layout />,
      loader: ({ request }) => {
        if (client.signedIn()) {
          return null;
        }
        const url = new URL(request.url);
        return redirect(signInPath(url.pathname + url.search));
      },
      children: [
        ...PAGES.map(({ path, Component }) =>
          path === "/" ? { index: true, element: <Component /> } : { path, element: <Component /> },
        ),
        { path: "*", element: <NotFound /> },
      ],
    },
  ];
}

export function createAppRouter(client: ApiClient) {
  return createBrowserRouter(appRoutes(client));
}
