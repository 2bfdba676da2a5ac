// docs/api.md is generated from the TSDoc comments of the public API; this keeps it current.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { API_DOC, renderApiDocs } from "../../scripts/api-docs.js";
import * as hawser from "../../src/index.js";
import * as web from "../../src/web.js";
import * as ws from "../../src/ws/index.js";

test("docs/api.md matches the code (regenerate with `npx tsx scripts/api-docs.ts`)", () => {
  const rendered = renderApiDocs();
  assert.ok(readFileSync(API_DOC, "utf8") === rendered, "docs/api.md is out of date: run `npx tsx scripts/api-docs.ts` and commit the result.");
});

test("every name exported at run time has a section in docs/api.md", () => {
  const page = readFileSync(API_DOC, "utf8");
  const [core, rest] = page.split("## `hawser/web`");
  const [webPart, wsPart] = rest!.split("## `hawser/ws`");
  for (const name of Object.keys(hawser)) assert.match(core!, new RegExp(`^### (class |function |const |interface |type |enum )?${name}\\b`, "m"), name);
  for (const name of Object.keys(web)) assert.match(webPart!, new RegExp(`^### (class |function |const |interface |type |enum )?${name}\\b`, "m"), name);
  for (const name of Object.keys(ws)) assert.match(wsPart!, new RegExp(`^### (class |function |const |interface |type |enum )?${name}\\b`, "m"), name);
});
