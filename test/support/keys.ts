import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/** A signing key the tests generate, with its public JWK as a JWKS server would publish it. */
export interface TestKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, string>;
}

export function generateKey(kid: string, alg: "RS256" | "ES256" = "RS256"): TestKey {
  const { privateKey, publicKey } =
    alg === "RS256"
      ? generateKeyPairSync("rsa", { modulusLength: 2048 })
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, string>;
  return { kid, alg, privateKey, jwk: { ...jwk, kid, alg, use: "sig" } };
}

export const b64url = (input: string | Buffer): string => Buffer.from(input).toString("base64url");

/** header.payload from raw JSON text (so tests can write duplicate keys, odd types…). */
export const unsignedPart = (headerJson: string, payloadJson: string): string => `${b64url(headerJson)}.${b64url(payloadJson)}`;

/** RS256/ES256 signature over `input` with `key`, as base64url. */
export function signature(input: string, key: TestKey): string {
  const sig =
    key.alg === "RS256"
      ? sign("sha256", Buffer.from(input), key.privateKey)
      : sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return sig.toString("base64url");
}

/** A token from raw header/payload JSON text signed by `key` (whatever the header claims). */
export function signRaw(headerJson: string, payloadJson: string, key: TestKey): string {
  const input = unsignedPart(headerJson, payloadJson);
  return `${input}.${signature(input, key)}`;
}

/** Signs header.payload with the key (test-side only: the product never signs). */
export function signJwt(payload: Record<string, unknown>, key: TestKey, header: Record<string, unknown> = {}): string {
  return signRaw(JSON.stringify({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }), JSON.stringify(payload), key);
}

/** HS256 over header.payload with `secret` as the HMAC key (the algorithm-confusion attack). */
export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = unsignedPart(JSON.stringify({ ...header, alg: "HS256" }), JSON.stringify(payload));
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export const TEST_REGION = "eu-west-1";
export const TEST_POOL_ID = "eu-west-1_TestPool1";
export const TEST_CLIENT_ID = "testclient123";
export const TEST_ISSUER = `https://cognito-idp.${TEST_REGION}.amazonaws.com/${TEST_POOL_ID}`;

/** Claims of a Cognito access token for the test pool, valid for an hour; override as needed. */
export function cognitoAccessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  return {
    sub: "11111111-2222-3333-4444-555555555555",
    iss: TEST_ISSUER,
    client_id: TEST_CLIENT_ID,
    token_use: "access",
    scope: "pets/read",
    "cognito:groups": ["users"],
    username: "alice",
    auth_time: now,
    iat: now,
    exp: now + 3600,
    jti: "b3d3c4f0-0000-4000-8000-000000000001",
    ...overrides,
  };
}
