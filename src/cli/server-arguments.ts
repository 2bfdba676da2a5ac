import { parseArgs } from "node:util";
import type { HandlerOptions } from "../server/handler.js";
import { parseListenArguments } from "../server/main.js";
import { OriginPolicy } from "../security/origin-policy.js";
import type { ChatRedis } from "./chat.js";
import { tlsOptionsFromArguments } from "./tls-options.js";

/** The server commands of `hawser`. */
export type ServerCommand = "echo" | "demo" | "chat" | "autobahn";

/** A command line that cannot be run: the message says which argument and what to do. */
export class UsageError extends Error {
  override name = "UsageError";
}

type OptionSpec = { type: "string" | "boolean"; short?: string; multiple?: boolean };

/** Options every server command takes. */
const SERVER_OPTIONS: Record<string, OptionSpec> = {
  port: { type: "string", short: "p" },
  "listening-port": { type: "string" },
  host: { type: "string" },
  "listening-host": { type: "string" },
  listen: { type: "string" },
  "no-deflate": { type: "boolean" },
  origin: { type: "string", multiple: true },
  "any-origin": { type: "boolean" },
  "trust-proxy": { type: "boolean" },
  "max-connections": { type: "string" },
  "max-connections-per-ip": { type: "string" },
  "messages-per-second": { type: "string" },
  "bytes-per-second": { type: "string" },
  "rate-limit-action": { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** Options only some commands take. */
const COMMAND_OPTIONS: Record<ServerCommand, Record<string, OptionSpec>> = {
  echo: { cert: { type: "string" }, key: { type: "string" }, http2: { type: "boolean" } },
  demo: { cert: { type: "string" }, key: { type: "string" }, http2: { type: "boolean" } },
  chat: { redis: { type: "string" }, "redis-cluster": { type: "string" } },
  autobahn: {},
};

export interface ServerArguments {
  /** Server options from the command line (listening address included). */
  options: HandlerOptions;
  /** `--redis URL` or `--redis-cluster URL[,URL...]` (chat): where rooms are shared. */
  redis: ChatRedis | undefined;
  help: boolean;
}

/**
 * Reads a server command's arguments, refusing any option the command does not take (by
 * name, so a typo such as `--no-deflat` is not silently ignored) and any stray argument.
 */
export function parseServerArguments(command: ServerCommand, args: readonly string[]): ServerArguments {
  const options = { ...SERVER_OPTIONS, ...COMMAND_OPTIONS[command] };
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true }));
  } catch (error) {
    throw new UsageError(explainParseError(command, error as Error & { code?: string }));
  }
  if (positionals.length > 0) {
    throw new UsageError(`hawser ${command} takes no argument '${positionals[0]}': options start with --; see hawser --help.`);
  }
  const listen = parseListenArguments(args);
  const origins = (values.origin as string[] | undefined) ?? [];
  if (values["any-origin"] === true && origins.length > 0) {
    throw new UsageError("--any-origin accepts every origin already: give it or --origin URL, not both.");
  }
  const result: HandlerOptions = { port: listen.port, ...(listen.host !== undefined ? { host: listen.host } : {}) };
  if (values["no-deflate"] === true) result.perMessageDeflate = false;
  if (values["any-origin"] === true) result.allowedOrigins = "*";
  else if (origins.length > 0) result.allowedOrigins = origins;
  try {
    new OriginPolicy(result.allowedOrigins);
  } catch (error) {
    throw new UsageError(`--origin: ${(error as Error).message.replace(/^allowedOrigins entry /, "")}`);
  }
  if (values["trust-proxy"] === true) result.trustProxy = true;
  const maxConnections = countOption(values, "max-connections");
  if (maxConnections !== undefined) result.maxConnections = maxConnections;
  const maxConnectionsPerIp = countOption(values, "max-connections-per-ip");
  if (maxConnectionsPerIp !== undefined) result.maxConnectionsPerIp = maxConnectionsPerIp;
  const rate = rateOptions(values);
  if (rate !== undefined) result.messageRateLimit = rate;
  const tls = tlsOptionsFromArguments(values as Record<string, string | boolean | undefined>);
  return { options: { ...result, ...tls }, redis: chatRedis(values), help: values.help === true };
}

/** Where `hawser chat` shares its rooms: a Redis Cluster's nodes, one Redis, or nowhere. */
function chatRedis(values: Record<string, unknown>): ChatRedis | undefined {
  const cluster = values["redis-cluster"];
  if (typeof cluster === "string") {
    if (typeof values.redis === "string") throw new UsageError("--redis and --redis-cluster name two places to keep the rooms: give one.");
    return {
      clusterNodes: cluster
        .split(",")
        .map((node) => node.trim())
        .filter(Boolean),
    };
  }
  return typeof values.redis === "string" ? { url: values.redis } : undefined;
}

function explainParseError(command: ServerCommand, error: Error & { code?: string }): string {
  const option = /'([^']+)'/.exec(error.message)?.[1];
  switch (error.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `hawser ${command} does not know the option '${option}'; see hawser --help for the options it takes.`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `hawser ${command}: ${error.message.replace(/\.$/, "")}; see hawser --help.`;
    default:
      return `hawser ${command}: ${error.message}`;
  }
}

/** A whole number of 1 or more, or "unlimited". */
function countOption(values: Record<string, unknown>, name: string): number | undefined {
  const text = values[name];
  if (typeof text !== "string") return undefined;
  if (text === "unlimited") return Infinity;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${name} expects a whole number of 1 or more, or 'unlimited'; got '${text}'.`);
  return value;
}

function rateOptions(values: Record<string, unknown>): HandlerOptions["messageRateLimit"] {
  const messagesPerSecond = countOption(values, "messages-per-second");
  const bytesPerSecond = countOption(values, "bytes-per-second");
  const action = values["rate-limit-action"] as string | undefined; // a string option to parseArgs
  if (action !== undefined && action !== "pause" && action !== "close") {
    throw new UsageError(`--rate-limit-action is 'pause' or 'close', got '${action}'.`);
  }
  if (messagesPerSecond === undefined && bytesPerSecond === undefined && action === undefined) return undefined;
  return {
    ...(messagesPerSecond !== undefined ? { messagesPerSecond } : {}),
    ...(bytesPerSecond !== undefined ? { bytesPerSecond } : {}),
    ...(action !== undefined ? { action } : {}),
  };
}
