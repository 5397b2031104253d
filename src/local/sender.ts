/**
 * Local tools for sender-constrained tokens (development only; never bundled): a DPoP key and a
 * proof for one request (RFC 9449), and a client certificate for certificate-bound tokens (RFC 8705).
 * The thumbprints come from the product's own src/dpop.ts and src/binding.ts, so a token minted
 * here carries exactly what the authorizer compares.
 */
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { certificateThumbprint } from "../binding";
import { jwkThumbprint, sha256Base64Url } from "../dpop";
import { createCertificates } from "./state";

export interface LocalDpopKey {
  readonly privateKey: KeyObject;
  /** The public key as a proof's `jwk` header carries it (EC P-256). */
  readonly publicJwk: Readonly<Record<string, string>>;
  /** RFC 7638 thumbprint: the `cnf.jkt` of a token bound to this key. */
  readonly jkt: string;
}

/** A fresh ES256 key pair (kept in memory only: one key per `npm run token -- --dpop`). */
export function newDpopKey(): LocalDpopKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" }) as Record<string, string>;
  const publicJwk = { kty, crv, x, y };
  return { privateKey, publicJwk, jkt: jwkThumbprint(publicJwk) };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A DPoP proof for one request: `htm`, `htu` (query and fragment dropped), `iat` now, a fresh `jti`, `ath` of the token. */
export function dpopProofFor(
  key: LocalDpopKey,
  request: { method: string; url: string; accessToken: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  const url = new URL(request.url);
  const htu = `${url.origin}${url.pathname}`;
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk };
  const claims = { jti: randomUUID(), htm: request.method, htu, iat: nowSeconds, ath: sha256Base64Url(request.accessToken) };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url");
  return `${input}.${signature}`;
}

export interface LocalClientCertificate {
  /** Where the certificate (PEM) is kept: `client-cert.pem` in the state folder, its key beside it. */
  readonly pemFile: string;
  readonly pem: string;
  /** RFC 8705 `x5t#S256`: the `cnf` of tokens bound to it. */
  readonly x5t: string;
}

/** The state folder's client certificate, created on first use (self-signed by a throwaway CA, valid 30 days). */
export async function localClientCertificate(stateDir: string): Promise<LocalClientCertificate> {
  const pemFile = join(stateDir, "client-cert.pem");
  if (!existsSync(pemFile)) {
    const certs = await createCertificates({ caName: "local client CA", names: ["local-client"], ips: [], caValidDays: 30, serverValidDays: 30 });
    writeFileSync(join(stateDir, "client-key.pem"), certs.serverKey, { mode: 0o600 });
    writeFileSync(pemFile, certs.serverCert);
  }
  const pem = readFileSync(pemFile, "utf8");
  return { pemFile, pem, x5t: certificateThumbprint(pem) };
}
