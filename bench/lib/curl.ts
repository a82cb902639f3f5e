/** Single-request blob transfers with curl, timed by curl itself (`time_total`). */
import { outputOf } from "./command";

export interface Transfer {
  status: number;
  seconds: number;
  /** Bytes of the response body. */
  downloaded: number;
}

const WRITE_OUT = "%{http_code} %{time_total} %{size_download}";

/** `curl -T file` (a PUT streaming the file with its length), the response discarded. */
export function curlUpload(file: string, url: string): Promise<Transfer> {
  return curl(["-T", file, url]);
}

/** A GET with the body written to /dev/null. */
export function curlDownload(url: string): Promise<Transfer> {
  return curl([url]);
}

async function curl(args: string[]): Promise<Transfer> {
  const out = await outputOf(["curl", "-sS", "-k", "-o", "/dev/null", "-w", WRITE_OUT, ...args]);
  const [status = 0, seconds = 0, downloaded = 0] = out.split(" ").map(Number);
  return { status, seconds, downloaded };
}
