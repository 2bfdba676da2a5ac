// The package as a user installs it: `npm pack` (the files package.json ships), unpacked into
// node_modules/hawser of a temp project, then used from an ES module (import), a CommonJS
// script (require) and TypeScript (tsc with NodeNext, for .ts and .cts files).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertBuilt, ROOT } from "../helpers/cli.js";

/** Names both module systems must give (a sample of the public API, from both faces). */
const CORE_NAMES = [
  "genericMain",
  "serve",
  "WebSocket",
  "HandlerHost",
  "Cgi",
  "HttpError",
  "WebSocketOpcode",
  "CloseCode",
  "connect",
  "connectHttp2",
  "attachHttp2",
];

/** Runs a script with node in `cwd` and returns its stdout; fails with its stderr. */
function runNode(cwd: string, file: string): string {
  const result = spawnSync(process.execPath, [file], { cwd, encoding: "utf8", timeout: 30_000 });
  assert.equal(result.status, 0, `node ${file} failed:\n${result.stderr}`);
  return result.stdout;
}

describe("the built package, installed from its tarball", () => {
  let project: string;
  before(() => {
    assertBuilt();
    project = mkdtempSync(join(tmpdir(), "hawser-package-"));
    // An ES module project, as the examples are (their .ts files are ES modules, .cts CommonJS).
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "user-project", private: true, type: "module" }));
    // --ignore-scripts: the build already ran (npm test builds first); prepare would rebuild.
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], { cwd: ROOT, encoding: "utf8" }),
    ) as Array<{
      filename: string;
    }>;
    const installed = join(project, "node_modules", "hawser");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", join(project, packed[0]!.filename), "-C", installed, "--strip-components=1"]);
    // The dev packages the examples use (types, frameworks), as a user's project has them.
    for (const name of readdirSync(join(ROOT, "node_modules"))) {
      if (name === "hawser" || name.startsWith(".")) continue;
      symlinkSync(join(ROOT, "node_modules", name), join(project, "node_modules", name));
    }
  });
  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  test("the core has no runtime dependencies", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), []);
  });

  test("import() and require() give the same public names, for 'hawser' and 'hawser/web'", () => {
    writeFileSync(
      join(project, "esm.mjs"),
      `import * as hawser from "hawser";\nimport * as web from "hawser/web";\n` +
        `console.log(JSON.stringify({ core: Object.keys(hawser).sort(), web: Object.keys(web).sort(), kinds: [typeof hawser.genericMain, typeof web.WebSocket] }));\n`,
    );
    writeFileSync(
      join(project, "cjs.cjs"),
      `const hawser = require("hawser");\nconst web = require("hawser/web");\n` +
        `console.log(JSON.stringify({ core: Object.keys(hawser).sort(), web: Object.keys(web).sort(), kinds: [typeof hawser.genericMain, typeof web.WebSocket] }));\n`,
    );
    const esm = JSON.parse(runNode(project, "esm.mjs")) as { core: string[]; web: string[]; kinds: string[] };
    const cjs = JSON.parse(runNode(project, "cjs.cjs")) as { core: string[]; web: string[]; kinds: string[] };
    for (const name of CORE_NAMES) assert.ok(esm.core.includes(name), `import("hawser") has ${name}`);
    assert.deepEqual(cjs.core, esm.core);
    assert.deepEqual(cjs.web, esm.web);
    assert.ok(esm.web.includes("WebSocket"));
    assert.deepEqual(esm.kinds, ["function", "function"]);
    assert.deepEqual(cjs.kinds, ["function", "function"]);
  });

  test("hawser/ws: require() gives the WebSocket class with ws's statics; import gives the same names", () => {
    writeFileSync(
      join(project, "ws-cjs.cjs"),
      `const WebSocket = require("hawser/ws");\n` +
        `console.log(JSON.stringify({ kind: typeof WebSocket, self: WebSocket.WebSocket === WebSocket, server: WebSocket.Server === WebSocket.WebSocketServer && typeof WebSocket.Server, stream: typeof WebSocket.createWebSocketStream, open: WebSocket.OPEN }));\n`,
    );
    writeFileSync(
      join(project, "ws-esm.mjs"),
      `import WebSocket, * as all from "hawser/ws";\n` +
        `console.log(JSON.stringify({ names: Object.keys(all).sort(), same: all.WebSocket === WebSocket && all.WebSocketServer === WebSocket.Server }));\n`,
    );
    assert.deepEqual(JSON.parse(runNode(project, "ws-cjs.cjs")), { kind: "function", self: true, server: "function", stream: "function", open: 1 });
    assert.deepEqual(JSON.parse(runNode(project, "ws-esm.mjs")), { names: ["WebSocket", "WebSocketServer", "createWebSocketStream", "default"], same: true });
  });

  test("a CommonJS program serves and connects with require('hawser/ws'), as it did with require('ws')", () => {
    writeFileSync(
      join(project, "ws-roundtrip.cjs"),
      `const WebSocket = require("hawser/ws");
const wss = new WebSocket.Server({ port: 0, host: "127.0.0.1" }, () => {
  const ws = new WebSocket("ws://127.0.0.1:" + wss.address().port);
  ws.on("open", () => ws.send("hi"));
  ws.on("message", (data) => { console.log(String(data)); ws.close(); wss.close(); });
});
wss.on("connection", (ws) => ws.on("message", (data) => ws.send("ws:" + data)));
`,
    );
    assert.equal(runNode(project, "ws-roundtrip.cjs").trim(), "ws:hi");
  });

  test("a CommonJS program serves and connects with require('hawser')", () => {
    writeFileSync(
      join(project, "roundtrip.cjs"),
      `const { serve, connect, WebSocketOpcode } = require("hawser");
(async () => {
  const server = await serve(async (cgi) => {
    const socket = cgi.acceptWebsocket();
    for await (const message of socket) if (message.opcode === WebSocketOpcode.text) socket.send("cjs:" + message.textData);
  }, { host: "127.0.0.1", port: 0 });
  const client = await connect(server.url);
  client.send("hi");
  console.log((await client.recv()).textData);
  client.close();
  await client.closed;
  await server.close();
})().catch((error) => { console.error(error); process.exit(1); });
`,
    );
    assert.equal(runNode(project, "roundtrip.cjs").trim(), "cjs:hi");
  });

  test("an ES module program does the same with import", () => {
    writeFileSync(
      join(project, "roundtrip.mjs"),
      `import { serve, connect } from "hawser";
const server = await serve(async (cgi) => {
  const socket = cgi.acceptWebsocket();
  for await (const message of socket) socket.send("esm:" + message.textData);
}, { host: "127.0.0.1", port: 0 });
const client = await connect(server.url);
client.send("hi");
console.log((await client.recv()).textData);
client.close();
await client.closed;
await server.close();
`,
    );
    assert.equal(runNode(project, "roundtrip.mjs").trim(), "esm:hi");
  });

  test("tsc type-checks the examples and a .cts file against the package's own .d.ts files", () => {
    const examples = join(project, "examples");
    cpSync(join(ROOT, "examples"), examples, { recursive: true });
    writeFileSync(
      join(examples, "require-types.cts"),
      // A CommonJS TypeScript file: resolves hawser's "require" types (dist/cjs/*.d.ts).
      `import { serve, HttpError, type Cgi, type HawserServer } from "hawser";
import type { WebSocket as WebWebSocket } from "hawser/web";
export async function start(): Promise<HawserServer> {
  return serve((cgi: Cgi) => {
    if (!cgi.websocketRequested()) throw new HttpError(404, "not here");
    const socket = cgi.acceptWebsocket();
    socket.onmessage = (event) => socket.send(event.data);
  }, { port: 0 });
}
export type Browserish = WebWebSocket;
`,
    );
    writeFileSync(
      join(examples, "require-ws-types.cts"),
      // ws's typings are \`export =\`: a CommonJS program writes \`import WebSocket = require("ws")\`.
      `import WebSocket = require("hawser/ws");
export const server: WebSocket.Server = new WebSocket.Server({ noServer: true });
server.on("connection", (ws: WebSocket) => ws.on("message", (data: WebSocket.RawData, isBinary: boolean) => ws.send(data, { binary: isBinary })));
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          types: ["node"],
          // Third-party typings (@types/koa with this content-disposition) disagree among
          // themselves; the examples' use of hawser's types is what is checked.
          skipLibCheck: true,
        },
        include: ["examples"],
      }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json", "--listFiles"], { cwd: project, encoding: "utf8", timeout: 120_000 });
    assert.equal(
      result.status,
      0,
      `tsc found errors:\n${result.stdout
        .split("\n")
        .filter((line) => !line.startsWith("/"))
        .join("\n")}${result.stderr}`,
    );
    // The types came from the installed package, both flavours, never from the repository's src/.
    assert.match(result.stdout, /node_modules\/hawser\/dist\/index\.d\.ts/);
    assert.match(result.stdout, /node_modules\/hawser\/dist\/cjs\/index\.d\.ts/);
    assert.match(result.stdout, /node_modules\/hawser\/dist\/cjs\/ws\/commonjs\.d\.cts/);
    assert.ok(!result.stdout.includes(join(ROOT, "src") + "/"), "no file of the repository's src/ was read");
  });
});
