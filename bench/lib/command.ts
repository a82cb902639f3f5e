/** Running a program to completion and collecting what it prints. */

export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export async function runCommand(
  cmd: string[],
  options: CommandOptions = {},
): Promise<CommandOutput> {
  const { env = process.env, cwd } = options;
  const proc = Bun.spawn(cmd, { env, cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout = "", stderr = ""] = await Promise.all(
    [proc.stdout, proc.stderr].map((stream) => new Response(stream).text()),
  );
  return { code: await proc.exited, stdout, stderr };
}

/** What the program printed on stdout; throws with its stderr when it fails. */
export async function outputOf(cmd: string[], options: CommandOptions = {}): Promise<string> {
  const { code, stdout, stderr } = await runCommand(cmd, options);
  if (code !== 0) throw new Error(`${cmd[0]} exited with ${code}: ${stderr.trim()}`);
  return stdout;
}
