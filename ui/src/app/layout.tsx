import { useQueryClient } from "@tanstack/react-query";
import { Suspense } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";

import { FleetBadge } from "../components/fleet-badge";
import { useApiClient } from "../lib/api-context";
import { SIGN_IN_PATH } from "../lib/paths";
import { PAGES } from "./pages";

/** The frame of every signed-in page: the navigation, sign-out, and the page itself. */
export function Layout() {
  const client = useApiClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();

  function signOut() {
    client.signOut();
    queryClient.clear();
    void navigate(SIGN_IN_PATH);
  }

  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Dashboard">
        <p className="brand">429chain</p>
        <FleetBadge />
        <ul>
          {PAGES.map((page) => (
            <li key={page.path}>
              <NavLink to={page.path} end={page.path === "/"}>
                {page.title}
              </NavLink>
            </li>
          ))}
        </ul>
        <button type="button" className="sign-out" onClick={signOut}>
          Sign out
        </button>
      </nav>
      <main className="content">
        <Suspense fallback={<p role="status">Loading…</p>}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
