import { lazy, type ComponentType, type LazyExoticComponent } from "react";

/** A page of the dashboard: where it is, its name in the navigation, and its code, loaded
 * when it is first opened so the first load stays small. */
export interface DashboardPage {
  path: string;
  title: string;
  Component: LazyExoticComponent<ComponentType>;
}

export const PAGES: readonly DashboardPage[] = [
  {
    path: "/",
    title: "Overview",
    Component: lazy(() => import("../features/overview/overview-page")),
  },
  {
    path: "/requests",
    title: "Requests",
    Component: lazy(() => import("../features/requests/requests-page")),
  },
  {
    path: "/limits",
    title: "Limits",
    Component: lazy(() => import("../features/limits/limits-page")),
  },
  {
    path: "/providers",
    title: "Providers",
    Component: lazy(() => import("../features/providers/providers-page")),
  },
  {
    path: "/chains",
    title: "Chains",
    Component: lazy(() => import("../features/chains/chains-page")),
  },
  {
    path: "/playground",
    title: "Playground",
    Component: lazy(() => import("../features/playground/playground-page")),
  },
  {
    path: "/settings",
    title: "Settings",
    Component: lazy(() => import("../features/settings/settings-page")),
  },
];
