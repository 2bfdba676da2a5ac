// The Redis Streams adapter in one process: the shared adapter contract and the ordered one
// against the machine's Redis (a unique key prefix per run), and, on private redis-server
// processes the test kills and restarts, its outage queue and its catch-up.
import { after, describe } from "node:test";
import { RedisStreamsAdapter } from "../../src/adapters/redis.js";
import { withTimeout } from "../helpers/wait.js";
import { adapterContract } from "./adapter-contract.js";
import { orderedAdapterContract } from "./ordered-contract.js";
import { deleteKeys, SHARED_REDIS_URL, sharedRedis, uniquePrefix } from "./redis-helpers.js";

const shared = sharedRedis();

describe("RedisStreamsAdapter on the shared Redis: the adapter contract", () => {
  const keyPrefix = uniquePrefix();
  after(() => (shared.available ? deleteKeys(SHARED_REDIS_URL, keyPrefix) : undefined));
  adapterContract({
    skip: shared.skip,
    check: () => shared.assertAvailable(),
    makeAdapter: () => new RedisStreamsAdapter({ url: SHARED_REDIS_URL, keyPrefix, log: false }),
    ready: (adapter) => withTimeout((adapter as RedisStreamsAdapter).ready(), 5000, "the adapter to reach Redis"),
  });
});

describe("RedisStreamsAdapter on the shared Redis: the ordered adapter contract", () => {
  const keyPrefix = uniquePrefix();
  after(() => (shared.available ? deleteKeys(SHARED_REDIS_URL, keyPrefix) : undefined));
  orderedAdapterContract({
    skip: shared.skip,
    check: () => shared.assertAvailable(),
    makeAdapter: (history) => new RedisStreamsAdapter({ url: SHARED_REDIS_URL, keyPrefix, log: false, ...(history ? { history } : {}) }),
    ready: (adapter) => withTimeout((adapter as RedisStreamsAdapter).ready(), 5000, "the adapter to reach Redis"),
  });
});
