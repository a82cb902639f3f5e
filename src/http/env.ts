/** The Hono environment of the registry's app: what entry files and middleware hand on. */
import type { Context } from "hono";

export type AppEnv = {
  /** What the entry file passes with each request. */
  Bindings: {
    /** The address the connection came from, where the runtime tells it (the Bun server). */
    clientAddress?: string;
  };
  Variables: {
    requestId: string;
    /**
     * Whether the caller may pull from a repository, set when authentication is on; without it
     * every repository is readable.
     */
    mayPull?: (repository: string) => boolean;
  };
};
export type AppContext = Context<AppEnv>;
