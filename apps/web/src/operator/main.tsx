import { createRoot } from "react-dom/client";
import { Providers } from "../ui/providers.js";
import { OperatorApp } from "./app.js";

createRoot(document.getElementById("root")!).render(
  <Providers>
    <OperatorApp />
  </Providers>,
);
