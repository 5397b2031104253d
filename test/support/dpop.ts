/**
 * Test-side DPoP (RFC 9449) and mutual-TLS (RFC 8705) helpers: proof keys, proofs, thumbprints
 * and client certificates. Written from the RFCs, apart from src/, so the product's checks are
 * judged by an independent construction (the product never signs).
 */
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { generateTls } from "./jwks-server";
import { generateKey, signRaw, type TestKey } from "./keys";

/** A client's DPoP key: the key pair and its public JWK with only the RFC 7638 members. */
export interface DpopKey extends TestKey {
  /** The public JWK as a proof's `jwk` header carries it. */
  readonly publicJwk: Record<string, string>;
  /** RFC 7638 thumbprint, the `cnf.jkt` of tokens bound to this key. */
  readonly jkt: string;
}

const sha256 = (input: string | Buffer) => createHash("sha256").update(input).digest("base64url");

/** RFC 7638 §3: SHA-256 over the required members, in lexicographic order, without whitespace. */
export function thumbprint(jwk: Record<string, string>): string {
  const names = jwk.kty === "RSA" ? ["e", "kty", "n"] : jwk.kty === "EC" ? ["crv", "kty", "x", "y"] : ["crv", "kty", "x"];
  return sha256(`{${names.map((n) => `"${n}":"${jwk[n]}"`).join(",")}}`);
}

export function generateDpopKey(alg: "ES256" | "RS256" = "ES256"): DpopKey {
  const key = generateKey("dpop", alg);
  const publicJwk: Record<string, string> =
    alg === "RS256" ? { kty: "RSA", n: key.jwk.n, e: key.jwk.e } : { kty: "EC", crv: key.jwk.crv, x: key.jwk.x, y: key.jwk.y };
  return { ...key, publicJwk, jkt: thumbprint(publicJwk) };
}

export interface ProofOptions {
  readonly htm: string;
  readonly htu: string;
  /** The access token the proof accompanies (its hash becomes `ath`). */
  readonly accessToken: string;
  readonly iat?: number;
  readonly jti?: string;
  /** Replaces or adds header members (`typ`, `alg`, `jwk`…); undefined values remove them. */
  readonly header?: Record<string, unknown>;
  /** Replaces or adds claims; undefined values remove them. */
  readonly claims?: Record<string, unknown>;
  /** Signs with this key instead (the header still names `key`'s jwk unless `header.jwk` says otherwise). */
  readonly signer?: TestKey;
}

/** A DPoP proof JWT for one request, signed by `key` (or `options.signer`). */
export function dpopProof(key: DpopKey, options: ProofOptions): string {
  const header = { typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk, ...options.header };
  const claims = {
    jti: options.jti ?? randomUUID(),
    htm: options.htm,
    htu: options.htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ath: sha256(options.accessToken),
    ...options.claims,
  };
  const signer = options.signer ?? key;
  return signRaw(JSON.stringify(header), JSON.stringify(claims), signer);
}

/** A client certificate (PEM) and its RFC 8705 `x5t#S256`, from Node's own SHA-256 fingerprint of the DER. */
export interface ClientCertificate {
  readonly pem: string;
  readonly x5t: string;
}

export async function generateClientCertificate(): Promise<ClientCertificate> {
  const pem = (await generateTls()).cert;
  const fingerprint = new X509Certificate(pem).fingerprint256; // "AB:CD:…", hex of SHA-256 over the DER
  return { pem, x5t: Buffer.from(fingerprint.replace(/:/g, ""), "hex").toString("base64url") };
}

/** Sets the Authorization scheme and token, and the DPoP header and client certificate, on a sample event. */
export function withSender(
  event: Record<string, unknown>,
  sender: { authorization?: string; dpop?: string | string[]; certPem?: string },
): Record<string, unknown> {
  const copy = structuredClone(event) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const http = copy.version === "2.0";
  if (sender.authorization !== undefined) {
    if (http) {
      copy.headers.authorization = sender.authorization;
      copy.identitySource = [sender.authorization];
    } else if (copy.headers) {
      copy.headers.Authorization = sender.authorization;
      copy.multiValueHeaders.Authorization = [sender.authorization];
    } else {
      copy.authorizationToken = sender.authorization;
    }
  }
  if (sender.dpop !== undefined) {
    const values = Array.isArray(sender.dpop) ? sender.dpop : [sender.dpop];
    if (http) copy.headers.dpop = values.join(",");
    else {
      copy.headers.DPoP = values[values.length - 1];
      copy.multiValueHeaders.DPoP = values;
    }
  }
  if (sender.certPem !== undefined) {
    const clientCert = { clientCertPem: sender.certPem, subjectDN: "CN=localhost", issuerDN: "CN=authorizer test CA" };
    if (http) copy.requestContext.authentication = { clientCert };
    else copy.requestContext.identity.clientCert = clientCert;
  }
  return copy;
}
