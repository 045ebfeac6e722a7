import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defaultClientConditions, defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * One multi-page build: admin.html (back office) and portal.html (client portal) share their
 * chunks under /assets/. The server serves dist/ (apps/server/src/http/web-routes.ts).
 * `source` first so @psphub/protocol is bundled from its TypeScript source, no prebuild needed.
 */
export default defineConfig({
  plugins: [react()],
  base: "/",
  resolve: { conditions: ["source", ...defaultClientConditions] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      input: { admin: here("./admin.html"), portal: here("./portal.html") },
    },
  },
  server: {
    // `npm run dev -w @psphub/web` next to a server on :3000.
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
});
