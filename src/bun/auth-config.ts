/** The Bun server's authentication: the configuration file named by `AUTH_CONFIG`, if any. */
import { Authenticator } from "../auth/authenticator";
import { AuthConfigError, parseAuthConfig } from "../auth/config";

/**
 * The authenticator of the configuration file at `path`; `undefined` when no path is given,
 * which leaves the registry open. A file that cannot be read or used is an `AuthConfigError`.
 */
export async function loadAuthenticator(path?: string): Promise<Authenticator | undefined> {
  if (!path) return undefined;
  const file = Bun.file(path);
  if (!(await file.exists())) throw new AuthConfigError(`no file at ${path}`);
  return Authenticator.create(parseAuthConfig(await file.text()));
}
