import { createRoot } from "react-dom/client";
import { Providers } from "../ui/providers.js";
import { AdminApp } from "./app.js";

createRoot(document.getElementById("root")!).render(
  <Providers>
    <AdminApp />
  </Providers>,
);
