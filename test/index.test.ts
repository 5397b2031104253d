/** The Lambda entry point: everything is built once, at module load, from process.env. */
import { INTERNAL_ERROR } from "../src/handler";
import { captureStdout, logRecords } from "./support/capture";

function loadIndex(env: Record<string, string | undefined>): { handler: (event: unknown) => Promise<unknown> } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    let mod: { handler: (event: unknown) => Promise<unknown> } | undefined;
    jest.isolateModules(() => {
      mod = jest.requireActual("../src/index");
    });
    return mod!;
  } finally {
    process.env = saved;
  }
}

it("exports index.handler, and with a configuration that does not load answers every request as our failure (500), naming the variable once at init", async () => {
  const { records, result } = await captureStdout(async () => {
    const { handler } = loadIndex({ USER_POOL_ID: undefined, ISSUER: undefined, POWERTOOLS_SERVICE_NAME: "index-under-test" });
    const first = await handler({ type: "TOKEN", authorizationToken: "Bearer a.b.c", methodArn: "arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/pets" }).catch((e: Error) => e.message);
    const second = await handler({}).catch((e: Error) => e.message);
    return [first, second];
  });
  expect(result).toEqual([INTERNAL_ERROR, INTERNAL_ERROR]);
  const initErrors = records.filter((r) => r.level === "ERROR" && r.message !== "decision");
  expect(initErrors).toHaveLength(1);
  expect(JSON.stringify(initErrors[0])).toContain("USER_POOL_ID");
  expect(logRecords(records, "decision").map((r) => r.decision)).toEqual(["Error", "Error"]);
});
