#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runChat } from "./cli/chat.js";
import { runConnect } from "./cli/connect.js";
import { runDemo } from "./cli/demo.js";
import { autobahnEchoHandler, echoHandler } from "./cli/echo.js";
import { tlsOptionsFromArguments } from "./cli/tls-options.js";
import { genericMain } from "./server/main.js";

const USAGE = `Usage: hawser <command> [options]

Commands:
  echo       the seed's echo server: greets with "hello" and " world!", then echoes
  autobahn   a plain echo server for the Autobahn|Testsuite's fuzzingclient
  chat       a chat server with a browser page at /; --redis URL shares rooms between processes
  connect    an interactive client, like wscat: hawser connect ws://host:port/ (--help for options)
  demo       a browser page at / with an echo console and a chat room

Options (echo, autobahn, chat, demo):
  --port, -p N     port to listen on (default 8085)
  --host H         interface to listen on (default: all)
  --listen H:P     both at once
  --origin URL     accept WebSocket requests only from this Origin (echo)
  --no-deflate     do not negotiate permessage-deflate
  --cert F --key F serve https:// and wss:// with this PEM certificate and key (echo, demo)
  --http2          with --cert/--key: also HTTP/2 and WebSockets over HTTP/2, RFC 8441 (echo, demo)
  --redis URL      keep chat rooms in Redis Streams, e.g. redis://127.0.0.1:6379 (chat; needs \`npm install redis\`)
  --redis-cluster URL[,URL...]  the same on a Redis Cluster, given one or more of its nodes (chat)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: false,
    allowPositionals: true,
    options: {
      origin: { type: "string" },
      redis: { type: "string" },
      "redis-cluster": { type: "string" },
      "no-deflate": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      cert: { type: "string" },
      key: { type: "string" },
      http2: { type: "boolean" },
    },
  });
  if ((values.help && command !== "connect") || command === undefined || command === "help" || command === "--help") {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  const deflate = values["no-deflate"] !== true;
  switch (command) {
    case "echo": {
      const origin = typeof values.origin === "string" ? values.origin : undefined;
      await genericMain(echoHandler(origin), { perMessageDeflate: deflate, ...tlsOptionsFromArguments(values) }, rest);
      return -1;
    }
    case "demo":
      await runDemo(rest, { perMessageDeflate: deflate, ...tlsOptionsFromArguments(values) });
      return -1;
    case "autobahn":
      await genericMain(autobahnEchoHandler, { perMessageDeflate: deflate, maxMessageBytes: 64 * 1024 * 1024 }, rest);
      return -1;
    case "connect":
      return runConnect(rest);
    case "chat":
      await runChat(rest, chatRedis(values.redis, values["redis-cluster"]), deflate);
      return -1;
    default:
      process.stderr.write(`hawser: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

function chatRedis(url: string | boolean | undefined, cluster: string | boolean | undefined): { url?: string; clusterNodes?: string[] } | undefined {
  if (typeof cluster === "string") return { clusterNodes: cluster.split(",").map((node) => node.trim()).filter(Boolean) };
  return typeof url === "string" ? { url } : undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`hawser: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
