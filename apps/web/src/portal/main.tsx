import { createRoot } from "react-dom/client";
import { ALL_LOCALES } from "../i18n/locales.js";
import { Providers } from "../ui/providers.js";
import { PortalApp } from "./app.js";

createRoot(document.getElementById("root")!).render(
  <Providers locales={ALL_LOCALES}>
    <PortalApp />
  </Providers>,
);
