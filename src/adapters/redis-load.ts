// node-redis ("redis" on npm) is an optional peer dependency: only the Redis adapters load it,
// and a missing package is reported with the command that installs it.

export type RedisModule = typeof import("redis");

let loading: Promise<RedisModule> | null = null;

export function loadRedis(): Promise<RedisModule> {
  loading ??= import("redis").catch((error: unknown) => {
    loading = null;
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") {
      throw new Error("hawser/redis needs the Redis client from npm: run `npm install redis` (version 5 or later).", { cause: error });
    }
    throw error;
  });
  return loading;
}
