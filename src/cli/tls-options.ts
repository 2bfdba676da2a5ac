import { readFileSync } from "node:fs";
import type { ServerOptions } from "../server/options.js";

/** The command line's `--cert FILE --key FILE [--http2]`, as server options. */
export function tlsOptionsFromArguments(values: Record<string, string | boolean | undefined>): Pick<ServerOptions, "tls" | "http2"> {
  const cert = values.cert;
  const key = values.key;
  const http2 = values.http2 === true;
  if (cert === true || key === true) throw new Error("--cert and --key each need a file name, e.g. --cert cert.pem --key key.pem.");
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error("--cert and --key go together: give both PEM files (certificate and private key) to serve wss://.");
  }
  if (cert === undefined || key === undefined || cert === false || key === false) {
    if (http2) throw new Error("--http2 needs --cert FILE --key FILE: browsers speak HTTP/2 only over TLS.");
    return {};
  }
  return { tls: { cert: readPem(cert, "--cert"), key: readPem(key, "--key") }, ...(http2 ? { http2: true } : {}) };
}

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`${option} ${path}: ${(error as Error).message}`);
  }
}
