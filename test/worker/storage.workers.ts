/** The storage-driver suite against R2 itself (local R2 in workerd), via the Worker's adapter. */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { R2Storage } from "../../src/worker/r2-storage";
import { defineStorageSuite } from "../storage/driver-suite";

const bucket = (env as unknown as { BUCKET: R2Bucket }).BUCKET;

async function emptyBucket(): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ cursor });
    if (page.objects.length) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

defineStorageSuite({ describe, test, expect, beforeEach, afterEach }, "R2 binding", async () => {
  await emptyBucket();
  return {
    storage: new R2Storage(bucket),
    reopen: async () => new R2Storage(bucket),
    cleanup: emptyBucket,
  };
});
