#!/usr/bin/env node
import { runChat } from "./cli/chat.js";
import { runConnect } from "./cli/connect.js";
import { runDemo } from "./cli/demo.js";
import { autobahnEchoHandler, echoHandler } from "./cli/echo.js";
import { parseServerArguments, UsageError, type ServerCommand } from "./cli/server-arguments.js";
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
  --no-deflate     do not negotiate permessage-deflate
  --cert F --key F serve https:// and wss:// with this PEM certificate and key (echo, demo)
  --http2          with --cert/--key: also HTTP/2 and WebSockets over HTTP/2, RFC 8441 (echo, demo)
  --redis URL      keep chat rooms in Redis Streams, e.g. redis://127.0.0.1:6379 (chat; needs \`npm install redis\`)
  --redis-cluster URL[,URL...]  the same on a Redis Cluster, given one or more of its nodes (chat)

Security (docs/security.md; every limit is on by default):
  --origin URL     also accept WebSockets from pages of this origin (repeatable); by default
                   only the server's own pages and clients that send no Origin get in
  --any-origin     accept WebSockets from pages of every origin
  --trust-proxy    believe X-Forwarded-For/-Proto/-Host from a reverse proxy in front
  --max-connections N         connections at once (default 16384)
  --max-connections-per-ip N  connections at once from one address (default 256)
  --messages-per-second N     frames each client may send per second (default 1000)
  --bytes-per-second N        payload bytes each client may send per second (default 16 MiB)
  --rate-limit-action A       past the rate: pause (default: stop reading for a while) or close (1008)
                   The limits also take 'unlimited'.
`;

const SERVER_COMMANDS: readonly string[] = ["echo", "demo", "chat", "autobahn"];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === "connect") return runConnect(rest);
  if (!SERVER_COMMANDS.includes(command)) {
    process.stderr.write(`hawser: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseServerArguments(command as ServerCommand, rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message.startsWith("hawser") ? "" : `hawser ${command}: `}${error.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { options } = parsed;
  switch (command as ServerCommand) {
    case "echo":
      await genericMain(echoHandler(), options, []);
      return -1;
    case "demo":
      await runDemo([], options);
      return -1;
    case "autobahn":
      // A conformance target: the suite sends messages of 65,536 frames as fast as it can, and
      // measures the protocol, not our flood policy (options given on the command line win).
      await genericMain(autobahnEchoHandler, { maxMessageBytes: 64 * 1024 * 1024, messageRateLimit: false, ...options }, []);
      return -1;
    case "chat":
      await runChat([], parsed.redis, options);
      return -1;
  }
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
