#!/usr/bin/env node
import { parseArgs } from "node:util";
import { autobahnEchoHandler, echoHandler } from "./cli/echo.js";
import { genericMain } from "./server/main.js";

const USAGE = `Usage: hawser <command> [options]

Commands:
  echo       the seed's echo server: greets with "hello" and " world!", then echoes
  autobahn   a plain echo server for the Autobahn|Testsuite's fuzzingclient

Options (echo, autobahn):
  --port, -p N     port to listen on (default 8085)
  --host H         interface to listen on (default: all)
  --listen H:P     both at once
  --origin URL     accept WebSocket requests only from this Origin (echo)
  --no-deflate     do not negotiate permessage-deflate
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: false,
    allowPositionals: true,
    options: { origin: { type: "string" }, "no-deflate": { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || command === undefined || command === "help" || command === "--help") {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  const deflate = values["no-deflate"] !== true;
  switch (command) {
    case "echo": {
      const origin = typeof values.origin === "string" ? values.origin : undefined;
      await genericMain(echoHandler(origin), { perMessageDeflate: deflate }, rest);
      return -1;
    }
    case "autobahn":
      await genericMain(autobahnEchoHandler, { perMessageDeflate: deflate, maxMessageBytes: 64 * 1024 * 1024 }, rest);
      return -1;
    default:
      process.stderr.write(`hawser: unknown command '${command}'\n\n${USAGE}`);
      return 2;
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
