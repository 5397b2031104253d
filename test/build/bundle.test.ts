/** The local tools stay out of the Lambda: nothing in the product imports src/local, and the bundle carries none of it. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

it("no product source imports src/local", () => {
  const product = readdirSync(join(ROOT, "src")).filter((f) => f.endsWith(".ts"));
  expect(product).toContain("index.ts");
  for (const file of product) {
    expect([file, readFileSync(join(ROOT, "src", file), "utf8")]).not.toEqual([file, expect.stringMatching(/from\s+["']\.\/local|require\(["']\.\/local/)]);
  }
});

it("the built bundle contains nothing of the local issuer, gateway or invoke server", () => {
  const bundle = readFileSync(join(ROOT, "dist", "index.js"), "utf8");
  for (const marker of ["eu-west-1_LocalDev", "local-client", "selfsigned", "lambda-runtime.mjs", "x-local-authorizer-cache", "/2015-03-31/functions"]) {
    expect([marker, bundle.includes(marker)]).toEqual([marker, false]);
  }
});
