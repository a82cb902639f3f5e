/** The Hono environment of the registry's app: what middleware leaves for handlers. */
import type { Context } from "hono";

export type AppEnv = { Variables: { requestId: string } };
export type AppContext = Context<AppEnv>;
