// The rule for external peers: skip with an install hint on a developer's machine, fail under CI.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { requirePeer } from "./peers.js";

let savedCi: string | undefined;
beforeEach(() => {
  savedCi = process.env.CI;
});
afterEach(() => {
  if (savedCi === undefined) delete process.env.CI;
  else process.env.CI = savedCi;
});

test("a present peer runs its tests", () => {
  delete process.env.CI;
  const peer = requirePeer("thing", () => true, "apt-get install thing");
  assert.equal(peer.available, true);
  assert.equal(peer.skip, false);
  peer.assertAvailable();
});

test("outside CI a missing peer skips, saying what to install", () => {
  for (const ci of [undefined, "", "false"]) {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
    const peer = requirePeer("thing", () => false, "apt-get install thing");
    assert.equal(peer.available, false);
    assert.equal(peer.skip, "thing is not available: apt-get install thing");
  }
});

test("under CI a missing peer is not skipped: assertAvailable fails the test with the hint", () => {
  process.env.CI = "true";
  const peer = requirePeer("thing", () => false, "apt-get install thing");
  assert.equal(peer.skip, false);
  assert.throws(() => peer.assertAvailable(), /thing is not available: apt-get install thing/);
});

test("a check that throws counts as missing", () => {
  process.env.CI = "1";
  const peer = requirePeer(
    "thing",
    () => {
      throw new Error("no such file");
    },
    "install it",
  );
  assert.equal(peer.available, false);
  assert.throws(() => peer.assertAvailable(), /install it/);
});
