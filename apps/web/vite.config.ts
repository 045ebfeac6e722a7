import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig, type Plugin } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * `vite` (dev) serves admin.html, portal.html and operator.html under their own names; the apps
 * live under /admin/*, /portal/* and /operator/* (client-side routes), as the server serves
 * them. Rewrite like it does.
 */
const spaFallback = (): Plugin => ({
  name: "psphub-spa-fallback",
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      for (const app of ["admin", "portal", "operator"]) {
        if (path === `/${app}` || (path.startsWith(`/${app}/`) && !path.includes(".")))
          req.url = `/${app}.html`;
      }
      next();
    });
  },
});

/**
 * One multi-page build: admin.html (back office), portal.html (client portal) and operator.html
 * (the platform operator's console) share their chunks under /assets/. The server serves dist/ (apps/server/src/http/web-routes.ts).
 * `source` first so @psphub/protocol is bundled from its TypeScript source, no prebuild needed.
 */
export default defineConfig({
  plugins: [react(), spaFallback()],
  base: "/",
  resolve: { conditions: ["source", ...defaultClientConditions] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      input: {
        admin: here("./admin.html"),
        portal: here("./portal.html"),
        operator: here("./operator.html"),
      },
      // Libraries (React, Mantine) in one long-cached chunk shared by both apps; our shared
      // code in another, so a change to the apps does not re-download the libraries.
      output: {
        codeSplitting: {
          groups: [
            // $initial: libraries the apps load at start; the dashboard's charts (a lazy page) stay in its own chunk.
            { name: "vendor", test: /node_modules/, tags: ["$initial"] },
            { name: "shared", test: /apps\/web\/src\/(lib|ui|i18n)\// },
          ],
        },
      },
    },
  },
  server: {
    // `npm run dev -w @psphub/web` next to a server on :3000.
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
});
