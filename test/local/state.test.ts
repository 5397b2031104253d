/** The local issuer's state: persistent keys and CA, created once, never written by the compose issuer. */
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadExistingState, loadOrCreateState } from "../../src/local/state";
import { useStateDir } from "./support";

const stateDirOf = useStateDir();

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
    const state = await loadOrCreateState(stateDirOf());
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
