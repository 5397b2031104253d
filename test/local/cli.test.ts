/** The local tools' command line: `npm run -s token` printing nothing but the token, and the events fill script. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startIssuer } from "../../src/local/issuer";
import { TOKEN_PLACEHOLDER } from "../../src/local/project";
import { loadOrCreateState } from "../../src/local/state";
import { LOCAL_CLIENT_ID, LOCAL_ISSUER } from "../../src/local/tokens";
import { X509Certificate } from "node:crypto";
import { verifyDpopProof } from "../../src/dpop";
import { ReplayCache } from "../../src/replay-cache";
import { decode, getJson, signatureValid, useStateDir } from "./support";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const RUNNER = join(ROOT, "src", "local", "run.mjs");

const stateDirOf = useStateDir();

describe("CLI", () => {
  it("`npm run -s token` prints only a token, signed with the key the issuer serves after a restart", async () => {
    const { stdout } = await run("npm", ["run", "-s", "token", "--", "--scope", "pets/write", "--group", "admin", "--claim", "tier=\"gold\"", "--claim", "level=3", "--state-dir", stateDirOf()], { cwd: ROOT });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const jwt = stdout.trim();
    expect(decode(jwt)).toMatchObject({ scope: "pets/write", "cognito:groups": ["admin"], tier: "gold", level: 3, iss: LOCAL_ISSUER });
    const state = await loadOrCreateState(stateDirOf());
    const issuer = await startIssuer({ state });
    try {
      const jwks = await getJson(issuer.jwksUri, state.tls.caCert);
      expect(signatureValid(jwt, jwks.body as { keys: Record<string, string>[] })).toBe(true);
    } finally {
      await issuer.close();
    }
  });

  it("mints expired and id tokens, and rejects unknown options with a non-zero exit", async () => {
    const expired = (await run(process.execPath, [RUNNER, "token", "--expired", "--state-dir", stateDirOf()], { cwd: ROOT })).stdout.trim();
    expect(Number(decode(expired).exp)).toBeLessThan(Date.now() / 1000);
    const id = decode((await run(process.execPath, [RUNNER, "token", "--token-use", "id", "--state-dir", stateDirOf()], { cwd: ROOT })).stdout.trim());
    expect(id).toMatchObject({ token_use: "id", aud: LOCAL_CLIENT_ID });
    expect(id.scope).toBeUndefined();
    await expect(run(process.execPath, [RUNNER, "token", "--bogus", "--state-dir", stateDirOf()], { cwd: ROOT })).rejects.toMatchObject({ code: 1 });
  });

  it("fills the three sample events with a fresh token (files and stdout)", async () => {
    const out = join(stateDirOf(), "events-out");
    const { stdout } = await run(process.execPath, [RUNNER, "events", "--out", out, "--group", "admin", "--state-dir", stateDirOf()], { cwd: ROOT });
    expect(stdout.trim().split("\n")).toHaveLength(3);
    for (const name of ["token.json", "request.json", "http-api.json"]) {
      const text = readFileSync(join(out, name), "utf8");
      expect(text).not.toContain(TOKEN_PLACEHOLDER);
      const event = JSON.parse(text) as Record<string, unknown>;
      const original = JSON.parse(readFileSync(join(ROOT, "events", name), "utf8")) as Record<string, unknown>;
      expect(Object.keys(event)).toEqual(Object.keys(original));
      const jwt = /Bearer ([\w-]+\.[\w-]+\.[\w-]+)/.exec(text)?.[1] ?? "";
      expect(decode(jwt)["cognito:groups"]).toEqual(["admin"]);
    }
    const printed = JSON.parse((await run(process.execPath, [RUNNER, "events", "--print", "token", "--state-dir", stateDirOf()], { cwd: ROOT })).stdout);
    expect(printed).toMatchObject({ type: "TOKEN", authorizationToken: expect.stringMatching(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/) });
  });

  it("`token -- --dpop URL --method M` prints a DPoP-bound token and a proof the authorizer accepts for that request", async () => {
    const url = "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/pets?x=1";
    const { stdout } = await run(process.execPath, [RUNNER, "token", "--dpop", url, "--method", "post", "--state-dir", stateDirOf()], { cwd: ROOT });
    const [jwt, proof, ...rest] = stdout.trim().split("\n");
    expect(rest).toEqual([]);
    const jkt = String((decode(jwt).cnf as Record<string, unknown>).jkt);
    const check = (method: string) => () =>
      verifyDpopProof(proof, { method, urls: ["https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/pets"], accessToken: jwt, jkt }, { windowSeconds: 60, now: Date.now, replayCache: new ReplayCache(10) });
    expect(check("GET")).toThrow(/htm/);
    expect(check("POST")).not.toThrow();
    await expect(run(process.execPath, [RUNNER, "token", "--method", "GET", "--state-dir", stateDirOf()], { cwd: ROOT })).rejects.toMatchObject({ code: 1 });
  });

  it("`token -- --cert` binds the token to the state folder's client certificate (x5t#S256 of its DER)", async () => {
    const { stdout, stderr } = await run(process.execPath, [RUNNER, "token", "--cert", "--state-dir", stateDirOf()], { cwd: ROOT });
    expect(stderr).toContain("client-cert.pem");
    const pem = readFileSync(join(stateDirOf(), "client-cert.pem"), "utf8");
    const expected = Buffer.from(new X509Certificate(pem).fingerprint256.replace(/:/g, ""), "hex").toString("base64url");
    expect(decode(stdout.trim()).cnf).toEqual({ "x5t#S256": expected });
  });
});
