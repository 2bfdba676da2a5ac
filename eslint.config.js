// ESLint for the whole repository, with rules that catch mistakes, not matters of taste (the
// layout is Prettier's: .prettierrc.json). TypeScript files are checked with type information
// (typescript-eslint's project service, on tsconfig.json), which is what finds a promise nobody
// awaits or an `any` that leaks out of JSON.parse. Plain JavaScript (the pages a browser loads,
// the Bun servers, the scripts) gets the rules that need no types.
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

/** Mistakes in any JavaScript or TypeScript. */
const mistakes = {
  "no-async-promise-executor": "error",
  "no-compare-neg-zero": "error",
  "no-cond-assign": "error",
  "no-constant-binary-expression": "error",
  "no-constant-condition": ["error", { checkLoops: false }],
  "no-debugger": "error",
  "no-dupe-else-if": "error",
  "no-duplicate-case": "error",
  "no-empty": "error",
  "no-fallthrough": "error",
  "no-loss-of-precision": "error",
  "no-self-assign": "error",
  "no-self-compare": "error",
  "no-sparse-arrays": "error",
  "no-template-curly-in-string": "error",
  "no-unreachable": "error",
  "no-unsafe-finally": "error",
  "no-unsafe-optional-chaining": "error",
  "use-isnan": "error",
  "valid-typeof": "error",
};

/** Unused variables, parameters and imports; `_name` marks one unused on purpose. */
const unused = ["error", { args: "after-used", argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }];

export default defineConfig(
  {
    ignores: ["dist/", "node_modules/", "bench/results/", "conformance/results/", "test-results/", ".scratch/", "tmp/"],
  },
  {
    files: ["**/*.{js,mjs,cjs}"],
    languageOptions: { globals: { ...globals.node, ...globals.browser, Bun: "readonly", Deno: "readonly" } },
    rules: {
      ...mistakes,
      "no-undef": "error",
      "no-unused-vars": unused,
      "no-unused-expressions": ["error", { allowShortCircuit: false, allowTernary: false }],
    },
  },
  {
    files: ["**/*.{ts,mts,cts}"],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...mistakes,
      // Promises: one nobody awaits or catches, one passed where a callback's result is ignored,
      // an await of something that is not a promise.
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's test() and describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }] },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // A rejection with a literal, a number or a plain object is an error. Passing on a value
      // whose type the code cannot know is not: a caught error (`unknown`), or an AbortSignal's
      // reason (`any`: the caller's to choose, and fetch() rejects with it too). only-throw-error
      // allows `throw error` in a catch for the same reason.
      "@typescript-eslint/prefer-promise-reject-errors": ["error", { allowThrowingAny: true, allowThrowingUnknown: true }],
      "@typescript-eslint/only-throw-error": "error",
      // Unused values.
      "@typescript-eslint/no-unused-vars": unused,
      "@typescript-eslint/no-unused-expressions": ["error", { allowShortCircuit: false, allowTernary: false }],
      // `any`, written or leaking in (JSON.parse, untyped libraries) and spreading unchecked.
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unsafe-argument": "error",
      "@typescript-eslint/no-unsafe-assignment": "error",
      "@typescript-eslint/no-unsafe-call": "error",
      "@typescript-eslint/no-unsafe-member-access": "error",
      "@typescript-eslint/no-unsafe-return": "error",
      // A method passed on without its object; "[object Object]" where a string was meant.
      "@typescript-eslint/unbound-method": "error",
      "@typescript-eslint/no-base-to-string": "error",
      "@typescript-eslint/no-array-delete": "error",
      "@typescript-eslint/no-for-in-array": "error",
      "@typescript-eslint/no-implied-eval": "error",
    },
  },
);
