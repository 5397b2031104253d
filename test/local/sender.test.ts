/** Local tools for sender-constrained tokens: DPoP proofs and the client certificate, checked from first principles. */
import { createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dpopProofFor, localClientCertificate, newDpopKey } from "../../src/local/sender";

const part = (jwt: string, i: number) => JSON.parse(Buffer.from(jwt.split(".")[i], "base64url").toString("utf8")) as Record<string, unknown>;

describe("dpopProofFor", () => {
  it("signs an ES256 dpop+jwt for the request with the key's public JWK, binding method, URL without query and the token", () => {
    const key = newDpopKey();
    const proof = dpopProofFor(key, { method: "POST", url: "https://api.example.com/prod/pets?x=1#frag", accessToken: "a.b.c" }, 1_000);
    const [h, p, s] = proof.split(".");
    expect(part(proof, 0)).toEqual({ typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk });
    expect(part(proof, 1)).toMatchObject({ htm: "POST", htu: "https://api.example.com/prod/pets", iat: 1_000, ath: createHash("sha256").update("a.b.c").digest("base64url") });
    expect(part(proof, 1).jti).toEqual(expect.any(String));
    const publicKey = createPublicKey({ key: key.publicJwk as never, format: "jwk" });
    expect(verify("sha256", Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"))).toBe(true);
    expect(key.publicJwk).not.toHaveProperty("d");
    expect(dpopProofFor(key, { method: "POST", url: "https://api.example.com/prod/pets", accessToken: "a.b.c" }, 1_000)).not.toBe(proof);
  });
});

describe("localClientCertificate", () => {
  it("creates the certificate once, and its x5t#S256 is the base64url SHA-256 of its DER", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authz-client-cert-"));
    try {
      const first = await localClientCertificate(dir);
      const der = new X509Certificate(readFileSync(first.pemFile, "utf8")).raw;
      expect(first.x5t).toBe(createHash("sha256").update(der).digest("base64url"));
      expect((await localClientCertificate(dir)).x5t).toBe(first.x5t);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
