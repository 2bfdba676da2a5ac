// A self-signed certificate made at test time with openssl, for wss:// tests. Its only name is
// DNS:localhost (no IP address), so connecting to 127.0.0.1 needs `servername: "localhost"`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePeer, type Peer } from "../helpers/peers.js";

export const openssl: Peer = requirePeer(
  "openssl",
  () => spawnSync("openssl", ["version"], { timeout: 10_000 }).status === 0,
  "install the openssl command line tool: sudo apt-get install openssl",
);

export interface SelfSignedCertificate {
  cert: string;
  key: string;
}

export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), "hawser-tls-"));
  try {
    const result = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "1",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { timeout: 30_000, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
    return { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
