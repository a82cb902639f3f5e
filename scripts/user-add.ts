/**
 * `bun run user-add <name> [--bcrypt] [--cost <n>] [--iterations <n>]` (or `npm run user-add --
 * <name>`): asks for a password and prints the line to put in the `users` object of the
 * authentication configuration, `"<name>": "<hash>"`.
 *
 * At a terminal the password is typed twice and not echoed; otherwise the first line of standard
 * input is the password, for scripts: `printf '%s\n' "$PASSWORD" | bun run user-add ci`.
 * The hash is PBKDF2-SHA256 (cheap enough for the Worker) unless `--bcrypt` asks for bcrypt,
 * which htpasswd and Distribution read too.
 */
import { parseArgs } from "node:util";
import { type HashOptions, hashPassword } from "../src/auth/passwords";

const USAGE = "usage: bun run user-add <name> [--bcrypt] [--cost <n>] [--iterations <n>]";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      bcrypt: { type: "boolean", default: false },
      cost: { type: "string" },
      iterations: { type: "string" },
    },
  });
  const [name] = positionals;
  if (!name || positionals.length > 1) fail(USAGE);
  if (name === "anonymous" || name === "*" || name.includes(":"))
    fail(`invalid user name: ${name}`);

  const options: HashOptions = values.bcrypt
    ? { kind: "bcrypt", cost: values.cost ? Number(values.cost) : undefined }
    : { kind: "pbkdf2", iterations: values.iterations ? Number(values.iterations) : undefined };
  const password = await readPassword(name);
  if (password === "") fail("the password is empty");

  process.stdout.write(
    `${JSON.stringify(name)}: ${JSON.stringify(await hashPassword(password, options))}\n`,
  );
}

/** The password: typed twice at a terminal, or the first line of standard input. */
async function readPassword(name: string): Promise<string> {
  if (!process.stdin.isTTY) return (await Bun.stdin.text()).split(/\r?\n/)[0] ?? "";
  const password = await prompt(`Password for ${name}: `);
  if ((await prompt("Again: ")) !== password) fail("the passwords differ");
  return password;
}

/** Reads one line from the terminal without echoing it. */
function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let typed = "";
  return new Promise((resolve) => {
    const onData = (data: Buffer) => {
      for (const char of data.toString("utf8")) {
        if (char === "\u0003") {
          stdin.setRawMode(false);
          process.stderr.write("\n");
          process.exit(130);
        }
        if (char === "\r" || char === "\n") {
          stdin.off("data", onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write("\n");
          return resolve(typed);
        }
        typed = char === "\u007f" || char === "\b" ? typed.slice(0, -1) : typed + char;
      }
    };
    stdin.on("data", onData);
  });
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

await main().catch((error: Error) => fail(error.message));
