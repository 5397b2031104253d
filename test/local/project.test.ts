/** Where things are in a checkout, and the sample events the tools fill in. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EVENT_FILES, projectPaths, projectRoot, TOKEN_PLACEHOLDER } from "../../src/local/project";

describe("projectRoot and projectPaths", () => {
  it("finds the repository root from anywhere below it, and names the task root, bundle, runtime script and rules", () => {
    const root = projectRoot(join(__dirname, "..", "..", "src", "local"));
    expect(existsSync(join(root, "package.json"))).toBe(true);
    expect(projectRoot(__dirname)).toBe(root);
    expect(projectPaths(root)).toEqual({
      root,
      taskRoot: join(root, "dist"),
      bundle: join(root, "dist", "index.js"),
      runtimeScript: join(root, "src", "local", "lambda-runtime.mjs"),
      accessRules: join(root, "access-rules.example.json"),
    });
  });

  it("says so when there is no project above", () => {
    expect(() => projectRoot("/")).toThrow("cannot find the project root above /");
  });
});

describe("the sample events", () => {
  it.each(Object.entries(EVENT_FILES))("%s (%s) carries the token placeholder only as a Bearer token", (_name, file) => {
    const text = readFileSync(join(projectRoot(), "events", file), "utf8");
    const uses = text.split(TOKEN_PLACEHOLDER).length - 1;
    expect(uses).toBeGreaterThan(0);
    expect(text.split(`Bearer ${TOKEN_PLACEHOLDER}`).length - 1).toBe(uses);
  });
});
