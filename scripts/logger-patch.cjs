// Plugin 6 of scripts/build.mjs: one expression of Powertools' Logger, rewritten for Node 20's V8.
//
// Node 20's V8 (11.3) keeps objects built as `{ ...source, key: value }` (a spread, then a named
// property) alive through young-generation collections until the next full collection, although
// nothing references them. `node bench/v8-spread-retention.mjs` reproduces it without any library;
// Node 22's V8 (12.4) does not do it. Powertools' Logger builds one such object for every log line
// once `addContext` has run (`#getPowertoolsLogData`). So on Node 20 every decision promoted its log
// line's attributes into the old generation, about 35 KB per scavenge, and the heap grew to about
// 1.5 times the floor's (docs/performance.md, "Memory").
//
// The expression becomes `Object.assign` into a new object. It copies the same own enumerable
// properties in the same order. The source is Powertools' own plain object, whose keys are fixed by
// Powertools (no `__proto__`, no setter on the way). So the line is byte for byte the same:
// test/build/logger-patch.test.ts compares it with the unpatched Logger's. The build fails if the
// expression is not found exactly once, so a Powertools upgrade cannot drop the patch silently.
"use strict";
const { readFileSync } = require("node:fs");

const LOGGER_SPREAD = "return { ...this.powertoolsLogData, lambdaContext };";
const LOGGER_ASSIGN = "return Object.assign({}, this.powertoolsLogData, { lambdaContext });";
/** Powertools' Logger module, in its ESM (bundled) and CommonJS builds. */
const LOGGER_MODULE = /[\\/]@aws-lambda-powertools[\\/]logger[\\/]lib[\\/](esm|cjs)[\\/]Logger\.js$/;

/** The patched source, or an error naming the file when the expression is not there exactly once. */
function patchLoggerSource(source, file) {
  const found = source.split(LOGGER_SPREAD).length - 1;
  if (found !== 1) {
    throw new Error(`${file} has ${found} copies of \`${LOGGER_SPREAD}\` (expected 1): review scripts/logger-patch.cjs`);
  }
  return source.replace(LOGGER_SPREAD, LOGGER_ASSIGN);
}

/**
 * The esbuild plugin. A build that bundles no file matching LOGGER_MODULE fails too: a Powertools
 * release that moved or renamed its Logger module would otherwise ship the unpatched expression.
 */
const loggerNoSpreadRetention = {
  name: "logger-no-spread-retention",
  setup(b) {
    let patched = 0;
    b.onStart(() => {
      patched = 0;
    });
    b.onLoad({ filter: LOGGER_MODULE }, (args) => {
      try {
        const contents = patchLoggerSource(readFileSync(args.path, "utf8"), args.path);
        patched += 1;
        return { contents, loader: "js" };
      } catch (err) {
        return { errors: [{ text: err.message }] };
      }
    });
    b.onEnd((result) => {
      if (patched === 0 && result.errors.length === 0) {
        return { errors: [{ text: "no Powertools Logger module was bundled through logger-no-spread-retention: review scripts/logger-patch.cjs (LOGGER_MODULE)" }] };
      }
      return undefined;
    });
  },
};

module.exports = { LOGGER_SPREAD, LOGGER_ASSIGN, LOGGER_MODULE, patchLoggerSource, loggerNoSpreadRetention };
