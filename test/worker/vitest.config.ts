/**
 * Vitest inside workerd (Cloudflare's runtime) with local R2: the storage-driver suite against
 * the real R2 binding. Files end in `.workers.ts` so that `bun test` never picks them up.
 */
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "../../wrangler.toml" } })],
  test: {
    include: ["**/*.workers.ts"],
    testTimeout: 120_000,
  },
});
