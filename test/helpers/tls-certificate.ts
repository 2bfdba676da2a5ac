// Self-signed certificates made with Debian's openssl in a temp directory at test time (nothing
// secret is kept in the repository): for 127.0.0.1 and localhost, or for localhost alone.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePeer, type Peer } from "./peers.js";

export const openssl: Peer = requirePeer(
  "openssl",
  () => spawnSync("openssl", ["version"], { timeout: 10_000 }).status === 0,
  "install Debian's openssl: sudo apt-get install openssl",
);

export interface Certificate {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly certFile: string;
  readonly keyFile: string;
  /** Removes the temp directory. */
  remove(): void;
}

/**
 * A certificate (and its key) for `subjectAltName`: by default localhost and 127.0.0.1. With
 * "DNS:localhost" alone, a client connecting to 127.0.0.1 must say `servername: "localhost"`.
 */
export function makeCertificate(subjectAltName = "DNS:localhost,IP:127.0.0.1"): Certificate {
  openssl.assertAvailable();
  const dir = mkdtempSync(join(tmpdir(), "hawser-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const result = spawnSync(
    "openssl",
    // EC keys are made in milliseconds; RSA 2048 can take a second on a slow machine.
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      `subjectAltName=${subjectAltName}`,
    ],
    { timeout: 20_000, encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`openssl could not make a test certificate: ${result.stderr}`);
  return {
    cert: readFileSync(certFile),
    key: readFileSync(keyFile),
    certFile,
    keyFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SelfSignedCertificate {
  cert: string;
  key: string;
}

/** A certificate for localhost alone (no IP address), as PEM text; nothing is left on disk. */
export function makeSelfSignedCertificate(): SelfSignedCertificate {
  const made = makeCertificate("DNS:localhost");
  try {
    return { cert: made.cert.toString("utf8"), key: made.key.toString("utf8") };
  } finally {
    made.remove();
  }
}
