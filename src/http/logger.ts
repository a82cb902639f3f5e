/** The logger the HTTP layer is given: structured fields, one line per event. */
export type LogFields = Record<string, string | number | undefined>;

export interface Logger {
  info(message: string, fields: LogFields): void;
  error(message: string, fields: LogFields): void;
}

/** Writes each event as one JSON line to the console. */
export const consoleLogger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: "info", message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: "error", message, ...fields })),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };
