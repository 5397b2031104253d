/** Helpers shared by the local issuer, state and CLI tests. */
import { createPublicKey, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get } from "node:https";

export function getJson(url: string, ca?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
    });
    req.on("error", reject);
  });
}

export const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8")) as Record<string, unknown>;

/** Verifies an RS256 JWT's signature against a JWKS the way a verifier would: by kid. */
export function signatureValid(jwt: string, jwks: { keys: Record<string, string>[] }): boolean {
  const [h, p, s] = jwt.split(".");
  const { kid } = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { kid: string };
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) return false;
  return verify("sha256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url"));
}

/** A temporary issuer state folder for the whole file: made before the tests, removed after. Call at top level. */
export function useStateDir(): () => string {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "authz-issuer-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}
