import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { App, createDashboard } from "./app/app";
import "./app/app.css";

const root = document.getElementById("root");
if (root === null) {
  throw new Error("index.html has no #root element");
}
createRoot(root).render(
  <StrictMode>
    <App dashboard={createDashboard()} />
  </StrictMode>,
);
