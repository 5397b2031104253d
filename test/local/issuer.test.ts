/**
 * The local issuer and its CLI: persistent keys and CA in the state folder, HTTPS trusted through the
 * local CA only, Cognito-shaped tokens, `npm run -s token` printing nothing but the token, and the
 * events fill script.
 */
import { execFile } from "node:child_process";
import { createPublicKey, verify, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startIssuer } from "../../src/local/issuer";
import { loadExistingState, loadOrCreateState } from "../../src/local/state";
import { LOCAL_CLIENT_ID, LOCAL_ISSUER } from "../../src/local/tokens";

const run = promisify(execFile);
const ROOT = join(__dirname, "..", "..");
const RUNNER = join(ROOT, "src", "local", "run.mjs");

let stateDir: string;
beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), "authz-issuer-"));
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

function getJson(url: string, ca?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
  });
}

const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8")) as Record<string, unknown>;

/** Verifies an RS256 JWT's signature against a JWKS the way a verifier would: by kid. */
function signatureValid(jwt: string, jwks: { keys: Record<string, string>[] }): boolean {
  const [h, p, s] = jwt.split(".");
  const { kid } = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { kid: string };
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) return false;
  return verify("sha256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url"));
}

describe("state", () => {
  it("creates the key and CA once and loads the same ones afterwards, even when raced", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authz-state-"));
    try {
      const raced = await Promise.all([loadOrCreateState(dir), loadOrCreateState(dir), loadOrCreateState(dir)]);
      const later = await loadOrCreateState(dir);
      expect(new Set([...raced, later].map((s) => s.signingKey.kid)).size).toBe(1);
      expect(new Set([...raced, later].map((s) => s.tls.caCert)).size).toBe(1);
      expect(readFileSync(later.caFile, "utf8")).toBe(later.tls.caCert);
      expect(readdirSync(join(dir, "issuer"))).toEqual(["state.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("issues a server certificate for localhost, the compose service name and 127.0.0.1, signed by the CA", async () => {
    const state = await loadOrCreateState(stateDir);
    const cert = new X509Certificate(state.tls.cert);
    expect(cert.subjectAltName).toEqual(expect.stringContaining("DNS:localhost"));
    expect(cert.subjectAltName).toEqual(expect.stringContaining("DNS:issuer"));
    expect(cert.subjectAltName).toEqual(expect.stringContaining("IP Address:127.0.0.1"));
    expect(cert.verify(new X509Certificate(state.tls.caCert).publicKey)).toBe(true);
  });

  it("loadExistingState (the compose issuer) uses the state as it is and never creates it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authz-existing-"));
    try {
      const missing = join(dir, "missing");
      expect(() => loadExistingState(missing)).toThrow(/no local issuer state in .*npm run -s token > \/dev\/null` on the host first/);
      expect(existsSync(missing)).toBe(false);

      const created = await loadOrCreateState(dir);
      expect(loadExistingState(dir).signingKey.kid).toBe(created.signingKey.kid);

      rmSync(created.caFile);
      expect(() => loadExistingState(dir)).toThrow(/ca\.pem is missing or is not the issuer's CA: run `npm run -s token/);
      expect(existsSync(created.caFile)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("HTTPS issuer", () => {
  it("serves JWKS, discovery and tokens, trusted through the local CA only", async () => {
    const state = await loadOrCreateState(stateDir);
    const issuer = await startIssuer({ state });
    try {
      await expect(getJson(issuer.jwksUri)).rejects.toThrow(/certificate/i);
      const jwks = await getJson(issuer.jwksUri, state.tls.caCert);
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: "RSA", alg: "RS256", use: "sig", kid: state.signingKey.kid })]);
      expect(JSON.stringify(jwks.body)).not.toMatch(/"d"|"p"|"q"/);

      const discovery = await getJson(`${issuer.url}/.well-known/openid-configuration`, state.tls.caCert);
      expect(discovery.body).toMatchObject({ issuer: LOCAL_ISSUER, jwks_uri: issuer.jwksUri });

      const minted = await getJson(`${issuer.url}/token?scope=pets/read%20pets/write&group=admin&group=ops&sub=carol`, state.tls.caCert);
      const jwt = String(minted.body.access_token);
      expect(signatureValid(jwt, jwks.body as { keys: Record<string, string>[] })).toBe(true);
      const claims = decode(jwt);
      expect(claims).toMatchObject({
        iss: LOCAL_ISSUER,
        sub: "carol",
        client_id: LOCAL_CLIENT_ID,
        token_use: "access",
        scope: "pets/read pets/write",
        "cognito:groups": ["admin", "ops"],
      });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
      expect(typeof claims.jti).toBe("string");

      const expired = decode(String((await getJson(`${issuer.url}/token?expired=1`, state.tls.caCert)).body.access_token));
      expect(Number(expired.exp)).toBeLessThan(Date.now() / 1000);
      const bad = await getJson(`${issuer.url}/token?token_use=refresh`, state.tls.caCert);
      expect(bad.status).toBe(400);
      expect(issuer.jwksRequests()).toBe(1);
    } finally {
      await issuer.close();
    }
  });
});

describe("CLI", () => {
  it("`npm run -s token` prints only a token, signed with the key the issuer serves after a restart", async () => {
    const { stdout } = await run("npm", ["run", "-s", "token", "--", "--scope", "pets/write", "--group", "admin", "--claim", "tier=\"gold\"", "--claim", "level=3", "--state-dir", stateDir], { cwd: ROOT });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const jwt = stdout.trim();
    expect(decode(jwt)).toMatchObject({ scope: "pets/write", "cognito:groups": ["admin"], tier: "gold", level: 3, iss: LOCAL_ISSUER });
    const state = await loadOrCreateState(stateDir);
    const issuer = await startIssuer({ state });
    try {
      const jwks = await getJson(issuer.jwksUri, state.tls.caCert);
      expect(signatureValid(jwt, jwks.body as { keys: Record<string, string>[] })).toBe(true);
    } finally {
      await issuer.close();
    }
  });

  it("mints expired and id tokens, and rejects unknown options with a non-zero exit", async () => {
    const expired = (await run(process.execPath, [RUNNER, "token", "--expired", "--state-dir", stateDir], { cwd: ROOT })).stdout.trim();
    expect(Number(decode(expired).exp)).toBeLessThan(Date.now() / 1000);
    const id = decode((await run(process.execPath, [RUNNER, "token", "--token-use", "id", "--state-dir", stateDir], { cwd: ROOT })).stdout.trim());
    expect(id).toMatchObject({ token_use: "id", aud: LOCAL_CLIENT_ID });
    expect(id.scope).toBeUndefined();
    await expect(run(process.execPath, [RUNNER, "token", "--bogus", "--state-dir", stateDir], { cwd: ROOT })).rejects.toMatchObject({ code: 1 });
  });

  it("fills the three sample events with a fresh token (files and stdout)", async () => {
    const out = join(stateDir, "events-out");
    const { stdout } = await run(process.execPath, [RUNNER, "events", "--out", out, "--group", "admin", "--state-dir", stateDir], { cwd: ROOT });
    expect(stdout.trim().split("\n")).toHaveLength(3);
    for (const name of ["token.json", "request.json", "http-api.json"]) {
      const text = readFileSync(join(out, name), "utf8");
      expect(text).not.toContain("REPLACE_WITH_TOKEN");
      const event = JSON.parse(text) as Record<string, unknown>;
      const original = JSON.parse(readFileSync(join(ROOT, "events", name), "utf8")) as Record<string, unknown>;
      expect(Object.keys(event)).toEqual(Object.keys(original));
      const jwt = /Bearer ([\w-]+\.[\w-]+\.[\w-]+)/.exec(text)?.[1] ?? "";
      expect(decode(jwt)["cognito:groups"]).toEqual(["admin"]);
    }
    const printed = JSON.parse((await run(process.execPath, [RUNNER, "events", "--print", "token", "--state-dir", stateDir], { cwd: ROOT })).stdout);
    expect(printed).toMatchObject({ type: "TOKEN", authorizationToken: expect.stringMatching(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/) });
  });
});
