/** Raw blob transfers: one-request PUT and GET with curl, and a chunked upload in PATCHes. */
import { withQuery } from "../lib/client";
import { curlDownload, curlUpload } from "../lib/curl";
import type { Sizes } from "../lib/options";
import type { BenchServer } from "../lib/servers";
import { throughput, timed } from "./figures";
import { sizeLabel } from "./images";
import type { Phase, PhaseContext } from "./types";

/** POST opens a session, then `curl -T` PUTs the whole file with `?digest=`; returns seconds. */
async function putBlob(ctx: PhaseContext, server: BenchServer): Promise<number> {
  const file = await ctx.fixtures.blobFile();
  const digest = await file.mark(`put-${ctx.round}`);
  const state = ctx.state(server);
  const repository = `bench/blob-${ctx.round}`;
  const location = await state.client.openUpload(repository);
  const put = await curlUpload(file.path, withQuery(location, "digest", digest));
  if (put.status !== 201) throw new Error(`blob PUT: ${put.status}`);
  state.blob = { round: ctx.round, repository, digest };
  return put.seconds;
}

export const blobPut: Phase = {
  id: "blob-put",
  number: 3,
  group: "blob-put",
  title: (sizes: Sizes) => `${sizeLabel(sizes.bigBytes)} blob PUT, one request (curl -T)`,
  tools: ["curl"],
  async beforeRound(ctx) {
    await (await ctx.fixtures.blobFile()).mark(`put-${ctx.round}`);
  },
  async run(ctx, server) {
    const took = await putBlob(ctx, server);
    return { figures: [throughput((await ctx.fixtures.blobFile()).size, took)] };
  },
};

export const blobGet: Phase = {
  id: "blob-get",
  number: 4,
  group: "blob-get",
  title: (sizes: Sizes) => `${sizeLabel(sizes.bigBytes)} blob GET (curl, to /dev/null)`,
  tools: ["curl"],
  async prepare(ctx, server) {
    if (ctx.state(server).blob?.round !== ctx.round) await putBlob(ctx, server);
  },
  async run(ctx, server) {
    const { client, blob } = ctx.state(server);
    const size = (await ctx.fixtures.blobFile()).size;
    const url = client.absolute(`/v2/${blob?.repository}/blobs/${blob?.digest}`);
    const get = await curlDownload(url);
    if (get.status !== 200 || get.downloaded !== size) {
      throw new Error(`blob GET: ${get.status}, ${get.downloaded} of ${size} bytes`);
    }
    return { figures: [throughput(size, get.seconds)] };
  },
};

export const chunkedUpload: Phase = {
  id: "chunked",
  number: 5,
  group: "chunked",
  title: (sizes: Sizes) =>
    `${sizeLabel(sizes.bigBytes)} upload in ${sizeLabel(sizes.chunkBytes)} PATCHes, then PUT`,
  tools: [],
  async beforeRound(ctx) {
    await (await ctx.fixtures.blobFile()).mark(`chunked-${ctx.round}`);
  },
  async run(ctx, server) {
    const file = await ctx.fixtures.blobFile();
    const took = await timed(() => uploadInChunks(ctx, server, `bench/chunked-${ctx.round}`));
    return { figures: [throughput(file.size, took)] };
  },
};

/**
 * POST, then one PATCH per chunk with `Content-Range`, each to the location the last answer
 * gave, then a PUT with the digest and no body. The chunks stream from the file (Bun's `fetch`
 * of a file slice), so no more than a chunk is ever read ahead.
 */
async function uploadInChunks(ctx: PhaseContext, server: BenchServer, repository: string) {
  const file = await ctx.fixtures.blobFile();
  const { client } = ctx.state(server);
  const chunk = ctx.options.sizes.chunkBytes;
  let location = await client.openUpload(repository);
  for (let start = 0; start < file.size; start += chunk) {
    const end = Math.min(file.size, start + chunk);
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Range": `${start}-${end - 1}`,
    };
    const body = Bun.file(file.path).slice(start, end);
    const res = await client.fetch(location, { method: "PATCH", body, headers });
    if (res.status !== 202) throw new Error(`PATCH ${start}-${end - 1}: ${res.status}`);
    location = client.absolute(res.headers.get("location") ?? location);
    await res.body?.cancel();
  }
  const res = await client.fetch(withQuery(location, "digest", file.digest), { method: "PUT" });
  if (res.status !== 201) throw new Error(`PUT: ${res.status} ${await res.text()}`);
}
