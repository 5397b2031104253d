import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

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

/** Signs header.payload with the key (test-side only: the product never signs). */
export function signJwt(
  payload: Record<string, unknown>,
  key: TestKey,
  header: Record<string, unknown> = {},
): string {
  const head = b64url(JSON.stringify({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }));
  const body = b64url(JSON.stringify(payload));
  const input = `${head}.${body}`;
  const signature =
    key.alg === "RS256"
      ? sign("sha256", Buffer.from(input), key.privateKey)
      : sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** Re-export for tests that need a PEM round-trip. */
export { createPrivateKey };

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
