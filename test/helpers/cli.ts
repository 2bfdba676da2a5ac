// Runs a server program (the `hawser` command, an example) as a child process on a free port
// and finds its port from the "listening on" line it prints.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withTimeout } from "./wait.js";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The built `hawser` command, as package.json's "bin" names it. */
export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does).`);
}

export interface RunningProgram {
  readonly child: ChildProcess;
  readonly port: number;
  /** "ws://127.0.0.1:PORT" */
  readonly url: string;
  readonly httpUrl: string;
  /** Everything printed so far on stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the program has ended. */
  readonly exited: Promise<number | string>;
  /** Sends SIGTERM (if still running) and waits for the exit; kills it if it lingers. */
  stop(): Promise<number | string>;
}

/** Another JavaScript runtime to run a program with (Bun, Deno): see test/helpers/runtimes.ts. */
export interface Launcher {
  readonly executable: string;
  /** Variables added to the environment. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Starts `node [nodeArgs] script args` and waits for "listening on http://HOST:PORT/".
 * Pass `--port 0 --host 127.0.0.1` in `args` to get a free loopback port. With a `launcher`,
 * its executable runs instead of this Node, with `nodeArgs` as its own arguments.
 */
export async function startProgram(script: string, args: string[], nodeArgs: string[] = [], launcher?: Launcher): Promise<RunningProgram> {
  const child = spawn(launcher?.executable ?? process.execPath, [...nodeArgs, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...launcher?.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        const match = /listening on https?:\/\/(?:\[[^\]]*\]|[^:/]+):(\d+)\//.exec(output);
        if (match) resolve(Number(match[1]));
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      void exited.then((code) => reject(new Error(`${script} exited (${code}) before listening:\n${output}`)));
    }),
    // Generous: a program that starts several processes under tsx (the cluster example) can
    // take over 15 s on a loaded 2-core machine, and only a hang should fail here.
    60_000,
    `${script} to start listening`,
  ).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  return {
    child,
    port,
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      try {
        return await withTimeout(exited, 5000, `${script} to exit`);
      } catch (error) {
        child.kill("SIGKILL");
        throw error;
      }
    },
  };
}

/** Runs a program to completion and returns its exit code and output. */
export function runProgram(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return withTimeout(
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr }))),
    15_000,
    `${script} ${args.join(" ")} to finish`,
  ).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
}

/**
 * Runs `executable args` to completion (a test peer, or a program under another runtime) and
 * parses the JSON it prints; fails with its stderr when it exits with another status than 0,
 * and kills it after `timeoutMs`.
 */
export function runForJson(
  executable: string,
  args: readonly string[],
  options: { what: string; timeoutMs: number; env?: Readonly<Record<string, string>> },
): Promise<unknown> {
  const child = spawn(executable, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<unknown>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) reject(new Error(`${options.what} exited with ${code}:\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
  return withTimeout(finished, options.timeoutMs, options.what).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
}
