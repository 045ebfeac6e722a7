import { createRoot } from "react-dom/client";
import { Providers } from "../ui/providers.js";
import { PortalApp } from "./app.js";

createRoot(document.getElementById("root")!).render(
  <Providers>
    <PortalApp />
  </Providers>,
);
