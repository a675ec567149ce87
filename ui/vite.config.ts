import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` forwards the API to a proxy running on its default port (`429chain serve`).
const PROXY = "http://127.0.0.1:3429";

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": PROXY, "/v1": PROXY, "/health": PROXY },
  },
  build: {
    // Into the Python package, which serves it at `/` (chain429/admin/dashboard_routes.py).
    // Relative to ui/.
    outDir: "../src/chain429/web",
    emptyOutDir: true,
    assetsDir: "assets",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
