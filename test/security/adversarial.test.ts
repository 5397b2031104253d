/**
 * Adversarial token and event suite, driven through the real handler (initialize + createHandler)
 * against a real HTTPS JWKS server on 127.0.0.1. aws-jwt-verify is not mocked.
 *
 * Each case's name states the status API Gateway would answer (200 Allow / 403 Deny / 401 / 500)
 * and why. Adversarial cases never Allow; the few 200 cases are controls or deliberate tolerances
 * of a *valid* token (reasons in their names), so that the suite can tell Allow apart at all.
 */
import { createPublicKey } from "node:crypto";
import { captureOutput, type CapturedOutput } from "../support/capture";
import { type Harness, METRICS_FOR, SecretRegistry, startHarness, type Verdict } from "./support/harness";
import { eventFor, STAGE_PREFIX } from "../support/events";
import { startJwksServer, type JwksServer } from "../support/jwks-server";
import { b64url, cognitoAccessClaims, generateKey, nowSeconds, signHs256, signJwt, signRaw, TEST_CLIENT_ID, TEST_ISSUER, TEST_POOL_ID, unsignedPart } from "../support/keys";

/** The keys of the context the authorizer passes on (src/claims.ts contextOf). */
const CONTEXT_KEYS = ["sub", "username", "clientId", "scope", "groups", "tokenUse", "issuer", "claims"];
const GRACE = 30;
let h: Harness;
let oidc: Harness;
let evil: JwksServer;
/** Two OIDC issuers, each with its own key set; both publish a key under the same kid "shared". */
let multi: Harness;
let issuerB: JwksServer;
const keyA = generateKey("shared");
const keyB = generateKey("shared");
let output: CapturedOutput;
const secrets = new SecretRegistry();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  output = captureOutput();
  // A long penalty: the whole suite must see at most one refetch however slowly it runs.
  h = await startHarness({ env: { JWT_GRACE_SECONDS: String(GRACE), JWKS_PENALTY_SECONDS: "300" }, output, secrets });
  oidc = await startHarness({
    output,
    secrets,
    envFor: (jwks) => ({
      ISSUER: jwks.url,
      AUDIENCE: "api://pets",
      JWKS_FETCH_TIMEOUT_MS: "500",
      JWKS_PENALTY_SECONDS: "10",
    }),
  });
  // An attacker-controlled key-set server: publishes the attacker's key under the trusted kid.
  evil = await startJwksServer([{ ...h.attacker.jwk, kid: h.trusted.kid }]);
  secrets.key(keyA);
  secrets.key(keyB);
  // One CA for both issuers' servers (two generated CAs share a subject name, which confuses verification).
  issuerB = await startJwksServer([keyB.jwk], h.jwks.tls);
  multi = await startHarness({
    output,
    secrets,
    tls: h.jwks.tls,
    envFor: (jwks) => {
      jwks.keys = [keyA.jwk];
      return { ISSUER: `${jwks.url},${issuerB.url}`, AUDIENCE: "api://pets", JWKS_FETCH_TIMEOUT_MS: "500" };
    },
  });
});

afterAll(async () => {
  await h?.close();
  await oidc?.close();
  await evil?.close();
  await multi?.close();
  await issuerB?.close();
  output?.stop();
  process.off("unhandledRejection", onUnhandled);
});

const TOKEN_ARN = `${STAGE_PREFIX}/GET/pets`;
const tokenEvent = (authorizationToken: unknown) => ({ type: "TOKEN", authorizationToken, methodArn: TOKEN_ARN });
const valid = (overrides: Record<string, unknown> = {}) => h.sign(cognitoAccessClaims(overrides), h.trusted);
const byTrusted = (overrides: Record<string, unknown>, header: Record<string, unknown> = {}) =>
  h.sign(cognitoAccessClaims(overrides), h.trusted, header);
const claimsJson = (overrides: Record<string, unknown> = {}) => JSON.stringify(cognitoAccessClaims(overrides));
const trustedHeader = () => JSON.stringify({ alg: "RS256", kid: h.trusted.kid, typ: "JWT" });
/** Replaces `"key":` value in compact JSON text: builds duplicate-key JSON by hand. */
const appendKey = (json: string, key: string, value: unknown) => `${json.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(value)}}`;
const without = (claim: string) => {
  const c = cognitoAccessClaims();
  delete c[claim];
  return h.sign(c, h.trusted);
};
const requestEvent = (headers: unknown, multiValueHeaders?: unknown) => {
  const event = eventFor("request", "x");
  return { ...event, headers, multiValueHeaders: multiValueHeaders ?? null };
};

interface Case {
  readonly name: string;
  readonly expect: Verdict;
  readonly event: () => unknown;
  /** The failure class the decision log must name, where the reason matters to the case. */
  readonly reason?: RegExp;
  /** Extra assertion after the common ones. */
  readonly also?: () => void;
  readonly harness?: () => Harness;
}

const CASES: Case[] = [
  // Controls: without these, a suite where everything is 401 would pass.
  { name: "200 Allow (control): valid access token, TOKEN event, permitted route", expect: "Allow", event: () => eventFor("token", valid()) },
  { name: "200 Allow (control): valid access token, REQUEST event", expect: "Allow", event: () => eventFor("request", valid()) },
  { name: "200 Allow (control): valid access token, HTTP API 2.0 event", expect: "Allow", event: () => eventFor("http-api", valid()) },
  {
    name: "403 Deny (control): valid token without pets/write asking for POST /pets (under-privileged)",
    expect: "Deny",
    event: () => eventFor("token", valid(), "POST /pets"),
  },
  {
    name: "403 Deny: valid token, HTTP API route it may not use (isAuthorized false, no context)",
    expect: "Deny",
    event: () => eventFor("http-api", valid(), "DELETE /pets/1"),
  },

  // Algorithm attacks
  {
    name: "401: alg none without a signature (unsigned token is never accepted)",
    expect: "Unauthorized",
    event: () => eventFor("token", `${unsignedPart(JSON.stringify({ alg: "none", typ: "JWT" }), claimsJson())}.`),
  },
  {
    name: "401: alg none with the trusted kid and a real RS256 signature by the trusted key (alg must be RS256 for this key)", reason: /^JwtInvalidSignatureAlgorithmError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signRaw(JSON.stringify({ alg: "none", kid: h.trusted.kid }), claimsJson(), h.trusted))),
  },
  {
    name: "401: alg NoNe (case variant) without a signature",
    expect: "Unauthorized",
    event: () => eventFor("token", `${unsignedPart(JSON.stringify({ alg: "NoNe", kid: h.trusted.kid }), claimsJson())}.`),
  },
  {
    name: "401: HS256 signed with the trusted RSA public key as HMAC secret (algorithm confusion)", reason: /^JwtInvalidSignatureAlgorithmError$/,
    expect: "Unauthorized",
    event: () => {
      const pem = createPublicKey({ key: h.trusted.jwk, format: "jwk" }).export({ format: "pem", type: "spki" });
      return eventFor("token", h.secrets.token(signHs256({ kid: h.trusted.kid, typ: "JWT" }, cognitoAccessClaims(), pem)));
    },
  },
  {
    name: "401: HS256 signed with the JWK modulus n as HMAC secret (algorithm confusion, JWK form)", reason: /^JwtInvalidSignatureAlgorithmError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signHs256({ kid: h.trusted.kid }, cognitoAccessClaims(), h.trusted.jwk.n))),
  },
  {
    name: "401: RS512 in the header, RS256 signature by the trusted key (header alg must match the JWK alg)",
    expect: "Unauthorized",
    event: () => eventFor("token", byTrusted({}, { alg: "RS512" })),
  },

  // Key substitution
  {
    name: "401: foreign key signing under the trusted kid (signature does not verify)", reason: /^JwtInvalidSignatureError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", h.sign(cognitoAccessClaims(), h.attacker, { kid: h.trusted.kid })),
  },
  {
    name: "401: embedded jwk header carrying the attacker's public key (header keys are never trusted)", reason: /^JwtInvalidSignatureError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", h.sign(cognitoAccessClaims(), h.attacker, { kid: h.trusted.kid, jwk: h.attacker.jwk })),
  },
  {
    name: "401: jku header pointing at an attacker key-set server (never fetched)", reason: /^JwtInvalidSignatureError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", h.sign(cognitoAccessClaims(), h.attacker, { kid: h.trusted.kid, jku: evil.jwksUri })),
    also: () => expect(evil.requests).toBe(0),
  },
  {
    name: "401: x5u header pointing at an attacker server, with a bogus x5c chain (never fetched or used)", reason: /^JwtInvalidSignatureError$/,
    expect: "Unauthorized",
    event: () =>
      eventFor("token", h.sign(cognitoAccessClaims(), h.attacker, { kid: h.trusted.kid, x5u: evil.jwksUri, x5c: ["MIIBbogus"] })),
    also: () => expect(evil.requests).toBe(0),
  },
  {
    name: "401: unknown kid signed by the attacker's key (key set refetched at most once, then the penalty box)",
    expect: "Unauthorized",
    event: () => eventFor("token", h.sign(cognitoAccessClaims(), h.attacker, { kid: "kid-nobody-published" })),
  },
  {
    name: "401: no kid in the header",
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signRaw(JSON.stringify({ alg: "RS256", typ: "JWT" }), claimsJson(), h.trusted))),
  },
  {
    name: "401: kid is a number, not a string",
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signRaw(JSON.stringify({ alg: "RS256", kid: 1 }), claimsJson(), h.trusted))),
  },
  ...[
    ["path traversal", "../../../../etc/passwd"],
    ["URL injection", "trusted-kid-1/../../.well-known/jwks.json?x=https://evil.example"],
    ["SQL injection", "' OR '1'='1' --"],
    ["JNDI/template injection", "${jndi:ldap://127.0.0.1:1389/a}{{7*7}}"],
    ["CRLF header injection", "trusted-kid-1\r\nX-Injected: 1"],
    ["NUL byte suffix on the trusted kid", "trusted-kid-1\u0000"],
    ["10,000 characters", "k".repeat(10_000)],
  ].map(
    ([what, kid]): Case => ({
      name: `401: kid with ${what} (treated as an opaque unknown kid, never part of a URL)`,
      expect: "Unauthorized",
      reason: /^(KidNotFoundInJwksError|WaitPeriodNotYetEndedJwkError)$/,
      event: () => eventFor("token", h.sign(cognitoAccessClaims(), h.trusted, { kid })),
    }),
  ),

  // Time claims
  { name: "401: expired 60 s ago (beyond the 30 s grace)", reason: /^JwtExpiredError$/, expect: "Unauthorized", event: () => eventFor("token", valid({ exp: nowSeconds() - 60 })) },
  {
    name: "401: nbf 120 s in the future (beyond the 60 s clock skew)", reason: /^JwtNotBeforeError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ nbf: nowSeconds() + 120 })),
  },
  {
    name: "200 Allow (control): nbf 10 s in the future, within the configured 30 s grace (clock skew tolerance)",
    expect: "Allow",
    event: () => eventFor("token", valid({ nbf: nowSeconds() + 10 })),
  },
  {
    name: "401: iat 120 s in the future (beyond the 60 s clock skew)", reason: /^IssuedInFutureError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ iat: nowSeconds() + 120 })),
  },
  { name: "401: no exp claim (tokens must expire)", reason: /^RequiredClaimError$/, expect: "Unauthorized", event: () => eventFor("token", without("exp")) },
  {
    name: "401: exp as a string far in the future (wrong claim type)",
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ exp: String(nowSeconds() + 3600) })),
  },

  // Issuer / audience / use
  {
    name: "401: wrong iss, signed by the trusted key (issuer not configured)",
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ iss: "https://evil.example" })),
  },
  {
    name: "401: iss of another Cognito pool in the same region",
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ iss: TEST_ISSUER.replace(TEST_POOL_ID, "eu-west-1_OtherPool") })),
  },
  {
    name: "401: iss with a trailing slash (exact match only)",
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ iss: `${TEST_ISSUER}/` })),
  },
  { name: "401: wrong client_id", reason: /^CognitoJwtInvalidClientIdError$/, expect: "Unauthorized", event: () => eventFor("token", valid({ client_id: "someone-elses-client" })) },
  { name: "401: no client_id", expect: "Unauthorized", event: () => eventFor("token", without("client_id")) },
  {
    name: "401: ID token where access tokens are expected (wrong token_use)", reason: /^CognitoJwtInvalidTokenUseError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ token_use: "id", aud: TEST_CLIENT_ID, client_id: undefined })),
  },
  { name: "401: no token_use", expect: "Unauthorized", event: () => eventFor("token", without("token_use")) },

  // Claim types
  { name: "401: scope as an array (wrong claim type)", expect: "Unauthorized", event: () => eventFor("token", valid({ scope: ["pets/read"] })) },
  {
    name: "401: cognito:groups as a string (wrong claim type)",
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ "cognito:groups": "admin" })),
  },
  { name: "401: sub as an object (wrong claim type)", expect: "Unauthorized", event: () => eventFor("token", valid({ sub: { admin: true } })) },
  { name: "401: username as a number (wrong claim type)", expect: "Unauthorized", event: () => eventFor("token", valid({ username: 7 })) },

  // Duplicate JSON keys: every parse of the token takes the last value, so the checks see what the signature covers.
  {
    name: "401: duplicate exp in the payload, last one expired (checks use the same last-wins value)", reason: /^JwtExpiredError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signRaw(trustedHeader(), appendKey(claimsJson(), "exp", nowSeconds() - 600), h.trusted))),
  },
  {
    name: "401: duplicate iss in the payload, last one foreign", reason: /^UnknownIssuerError$/,
    expect: "Unauthorized",
    event: () =>
      eventFor("token", h.secrets.token(signRaw(trustedHeader(), appendKey(claimsJson(), "iss", "https://evil.example"), h.trusted))),
  },
  {
    name: "401: duplicate alg in the header, last one none",
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signRaw(appendKey(trustedHeader(), "alg", "none"), claimsJson(), h.trusted))),
  },
  {
    name: "401: duplicate kid in the header (trusted first, attacker's last) signed by the attacker",
    expect: "Unauthorized",
    event: () => eventFor("token", h.secrets.token(signRaw(appendKey(trustedHeader(), "kid", "attacker-kid"), claimsJson(), h.attacker))),
  },
  {
    name: "401: __proto__ in the payload, signed by the attacker (no prototype pollution, no Allow)",
    expect: "Unauthorized",
    event: () =>
      eventFor("token", h.secrets.token(signRaw(trustedHeader(), appendKey(claimsJson(), "__proto__", { admin: true }), h.attacker))),
  },

  // Encoding and structure
  {
    name: "401: non-base64url characters (+ / =) in the signature",
    expect: "Unauthorized",
    event: () => {
      const [head, body, sig] = valid().split(".");
      return eventFor("token", `${head}.${body}.${Buffer.from(sig, "base64url").toString("base64")}`);
    },
  },
  {
    name: "401: non-base64url characters (%, space) in the payload",
    expect: "Unauthorized",
    event: () => tokenEvent(`Bearer ${valid().replace(".", ".%20 ")}`),
  },
  { name: "401: base64url that is not JSON (abc.def.ghi)", expect: "Unauthorized", event: () => eventFor("token", "abc.def.ghi") },
  {
    name: "401: two segments (header.payload, signature stripped)",
    expect: "Unauthorized",
    event: () => eventFor("token", valid().split(".").slice(0, 2).join(".")),
  },
  { name: "401: four segments (valid token + extra segment)", expect: "Unauthorized", event: () => eventFor("token", `${valid()}.${b64url("x")}`) },
  {
    name: "401: five segments (JWE-shaped)",
    expect: "Unauthorized",
    event: () => eventFor("token", [...valid().split("."), b64url("iv"), b64url("tag")].join(".")),
  },
  {
    name: "401: empty signature on a trusted header and payload",
    expect: "Unauthorized",
    event: () => eventFor("token", `${valid().split(".").slice(0, 2).join(".")}.`),
  },
  {
    name: "401: signature truncated by one character (a length no base64url encoding has)", reason: /^NonCanonicalEncodingError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", valid().slice(0, -1)),
  },
  {
    name: "401: signature of another valid token (payload swapped, e.g. scope raised)", reason: /^JwtInvalidSignatureError$/,
    expect: "Unauthorized",
    event: () => {
      const sig = valid().split(".")[2];
      const raised = unsignedPart(trustedHeader(), claimsJson({ scope: "pets/read pets/write", "cognito:groups": ["admin"] }));
      return eventFor("token", `${raised}.${sig}`);
    },
  },
  {
    name: "401: 1 MB token signed by the trusted key (rejected by length before any parsing)", reason: /^MissingTokenError$/,
    expect: "Unauthorized",
    event: () => eventFor("token", valid({ pad: "A".repeat(1024 * 1024) })),
  },

  // Authorization header variants (TOKEN event authorizationToken)
  { name: "401: Authorization missing (TOKEN event without authorizationToken)", expect: "Unauthorized", event: () => ({ type: "TOKEN", methodArn: TOKEN_ARN }) },
  { name: "401: Authorization empty", expect: "Unauthorized", event: () => tokenEvent("") },
  { name: "401: 'Bearer' alone", expect: "Unauthorized", event: () => tokenEvent("Bearer") },
  { name: "401: 'Bearer ' with only trailing spaces", expect: "Unauthorized", event: () => tokenEvent("Bearer    ") },
  {
    name: "200 Allow: 'bearer' lowercase with a valid token (RFC 7235: the auth scheme is case-insensitive)",
    expect: "Allow",
    event: () => tokenEvent(`bearer ${valid()}`),
  },
  {
    name: "200 Allow: extra spaces around and after 'Bearer' with a valid token (1*SP separator, surrounding whitespace is not part of the credential)",
    expect: "Allow",
    event: () => tokenEvent(`   Bearer     ${valid()}   `),
  },
  { name: "401: tab between 'Bearer' and the token (RFC 7235 separator is SP)", expect: "Unauthorized", event: () => tokenEvent(`Bearer\t${valid()}`) },
  { name: "401: Basic credentials", expect: "Unauthorized", event: () => tokenEvent(`Basic ${b64url("alice:secret")}`) },
  { name: "401: a valid JWT under the Basic scheme", expect: "Unauthorized", event: () => tokenEvent(`Basic ${valid()}`) },
  { name: "401: a valid JWT without any scheme (Bearer is required)", expect: "Unauthorized", event: () => tokenEvent(valid()) },
  {
    name: "401: two values in one header ('Bearer a, Bearer b': ambiguous)",
    expect: "Unauthorized",
    event: () => tokenEvent(`Bearer ${valid()}, Bearer ${valid({ sub: "someone-else" })}`),
  },
  { name: "401: two tokens after one 'Bearer'", expect: "Unauthorized", event: () => tokenEvent(`Bearer ${valid()} ${valid()}`) },
  { name: "401: authorizationToken is a number", expect: "Unauthorized", event: () => tokenEvent(12345) },
  { name: "401: authorizationToken is an array of strings", expect: "Unauthorized", event: () => tokenEvent([`Bearer ${valid()}`]) },

  // REQUEST event headers
  {
    name: "200 Allow: REQUEST header name AUTHORIZATION upper-case (API Gateway keeps the client's casing)",
    expect: "Allow",
    event: () => requestEvent({ AUTHORIZATION: `Bearer ${valid()}` }),
  },
  {
    name: "200 Allow: REQUEST header name authorization lower-case",
    expect: "Allow",
    event: () => requestEvent({ authorization: `Bearer ${valid()}` }),
  },
  {
    name: "401: REQUEST with Authorization and authorization carrying different tokens (ambiguous)",
    expect: "Unauthorized",
    event: () => requestEvent({ Authorization: `Bearer ${h.sign(cognitoAccessClaims(), h.attacker)}`, authorization: `Bearer ${valid()}` }),
  },
  {
    name: "401: REQUEST with two Authorization values in multiValueHeaders",
    expect: "Unauthorized",
    event: () => {
      const a = valid();
      return requestEvent({ Authorization: `Bearer ${a}` }, { Authorization: [`Bearer ${h.sign(cognitoAccessClaims(), h.attacker)}`, `Bearer ${a}`] });
    },
  },
  { name: "401: REQUEST with headers null", expect: "Unauthorized", event: () => requestEvent(null) },
  {
    name: "401: REQUEST with headers missing",
    expect: "Unauthorized",
    event: () => {
      const e: Record<string, unknown> = requestEvent(null);
      delete e.headers;
      delete e.multiValueHeaders;
      return e;
    },
  },
  { name: "401: REQUEST with headers as a string", expect: "Unauthorized", event: () => requestEvent(`Authorization: Bearer ${valid()}`) },
  { name: "401: REQUEST with the Authorization header as a number", expect: "Unauthorized", event: () => requestEvent({ Authorization: 42 }) },
  {
    name: "401: REQUEST with Authorization smuggled in a JSON __proto__ object",
    expect: "Unauthorized",
    event: () => requestEvent(JSON.parse(`{"__proto__":{"authorization":"Bearer ${valid()}"}}`)),
  },
  {
    name: "401: HTTP API with duplicate Authorization headers joined by a comma",
    expect: "Unauthorized",
    event: () => {
      const e = eventFor("http-api", valid());
      return { ...e, headers: { authorization: `Bearer ${valid()},Bearer ${valid()}` }, identitySource: [`Bearer ${valid()},Bearer ${valid()}`] };
    },
  },
  {
    name: "401: HTTP API with headers null and no identitySource",
    expect: "Unauthorized",
    event: () => ({ ...eventFor("http-api", valid()), headers: null, identitySource: undefined }),
  },

  // Events API Gateway never sends: our failure (500), never an Allow or a cacheable Deny
  { name: "500: event null", expect: "Error", event: () => null },
  { name: "500: event is a string", expect: "Error", event: () => `Bearer ${valid()}` },
  { name: "500: event is an array", expect: "Error", event: () => [eventFor("token", valid())] },
  { name: "500: event is an empty object", expect: "Error", event: () => ({}) },
  { name: "500: TOKEN event without methodArn", expect: "Error", event: () => ({ type: "TOKEN", authorizationToken: `Bearer ${valid()}` }) },
  { name: "500: TOKEN event with methodArn a number", expect: "Error", event: () => ({ ...tokenEvent(`Bearer ${valid()}`), methodArn: 7 }) },
  {
    name: "500: TOKEN event with methodArn not an execute-api ARN",
    expect: "Error",
    event: () => ({ ...tokenEvent(`Bearer ${valid()}`), methodArn: "arn:aws:s3:::bucket/*" }),
  },
  {
    name: "500: TOKEN event with a methodArn over 1600 bytes",
    expect: "Error",
    event: () => ({ ...tokenEvent(`Bearer ${valid()}`), methodArn: `${STAGE_PREFIX}/GET/${"p".repeat(1700)}` }),
  },
  { name: "500: type 'token' in lower case (not an API Gateway type)", expect: "Error", event: () => ({ ...tokenEvent(`Bearer ${valid()}`), type: "token" }) },
  {
    name: "500: HTTP API 2.0 event without routeArn",
    expect: "Error",
    event: () => {
      const e: Record<string, unknown> = eventFor("http-api", valid());
      delete e.routeArn;
      return e;
    },
  },
  {
    name: "200 Allow: REQUEST with requestContext of the wrong type and a valid token (only used for the correlation id)",
    expect: "Allow",
    event: () => ({ ...eventFor("request", valid()), requestContext: "nonsense" }),
  },

  // Generic OIDC issuer: audience checks
  { name: "200 Allow (control, OIDC): aud matches AUDIENCE", expect: "Allow", harness: () => oidc, event: () => eventFor("token", oidcToken({ aud: "api://pets" })) },
  { name: "401 (OIDC): wrong aud", reason: /^JwtInvalidAudienceError$/, expect: "Unauthorized", harness: () => oidc, event: () => eventFor("token", oidcToken({ aud: "api://other" })) },
  {
    name: "401 (OIDC): aud array without AUDIENCE",
    expect: "Unauthorized",
    harness: () => oidc,
    event: () => eventFor("token", oidcToken({ aud: ["api://a", "api://b"] })),
  },
  { name: "401 (OIDC): no aud, wrong client_id", expect: "Unauthorized", harness: () => oidc, event: () => eventFor("token", oidcToken({ client_id: "nope" })) },
  {
    name: "401 (OIDC): Cognito issuer token presented to an OIDC-only authorizer",
    expect: "Unauthorized",
    harness: () => oidc,
    event: () => eventFor("token", oidc.sign(cognitoAccessClaims(), oidc.trusted)),
  },

  // Two issuers: a key of one issuer never verifies a token claiming the other (key sets are per issuer).
  {
    name: "200 Allow (control, two issuers): issuer A's token signed by A's key",
    expect: "Allow",
    harness: () => multi,
    event: () => eventFor("token", multiToken(multi.jwks.url, keyA)),
  },
  {
    name: "200 Allow (control, two issuers): issuer B's token signed by B's key",
    expect: "Allow",
    harness: () => multi,
    event: () => eventFor("token", multiToken(issuerB.url, keyB)),
  },
  {
    name: "401 (two issuers): token claiming issuer B signed by issuer A's key under the kid both publish",
    expect: "Unauthorized",
    reason: /^JwtInvalidSignatureError$/,
    harness: () => multi,
    event: () => eventFor("token", multiToken(issuerB.url, keyA)),
  },
  {
    name: "401 (two issuers): token claiming issuer A signed by issuer B's key under the kid both publish",
    expect: "Unauthorized",
    reason: /^JwtInvalidSignatureError$/,
    harness: () => multi,
    event: () => eventFor("token", multiToken(multi.jwks.url, keyB)),
  },
];

function multiToken(iss: string, key: ReturnType<typeof generateKey>): string {
  const now = nowSeconds();
  return secrets.token(signJwt({ sub: "user-1", iss, aud: "api://pets", iat: now, exp: now + 600 }, key));
}

function oidcToken(claims: Record<string, unknown>): string {
  const now = nowSeconds();
  return oidc.sign({ sub: "user-1", iss: oidc.jwks.url, iat: now, exp: now + 600, scope: "pets/read", ...claims }, oidc.trusted);
}

describe("adversarial tokens and events through the real handler", () => {
  test.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const harness = c.harness?.() ?? h;
    const result = await harness.invoke(c.event());

    expect(result.verdict).toBe(c.expect);
    // Exactly one decision metric, and the one the verdict must be counted as.
    expect(result.decisions).toHaveLength(1);
    expect(METRICS_FOR[c.expect]).toContain(result.decisions[0]);
    expect(result.decisionLogs).toHaveLength(1);
    // The client-visible answer never carries the reason: thrown messages are exactly the two constants.
    if (result.thrown !== undefined) {
      expect(Object.keys(result.thrown as object)).toEqual([]);
      expect(String((result.thrown as Error).message)).toMatch(/^(Unauthorized|Authorizer error)$/);
    }
    if (result.verdict === "Deny") {
      // A Deny carries the caller's own context (API Gateway may serve a permitted route from this
      // cached answer), never the failure: no reason, error or "why" beyond the policy itself.
      const { context, ...rest } = result.response as { context?: Record<string, unknown> };
      expect(JSON.stringify(rest)).not.toMatch(/reason|error|scope|expired|invalid|context/i);
      if (context) expect(Object.keys(context).filter((k) => !CONTEXT_KEYS.includes(k))).toEqual([]);
    }
    if (c.reason) expect(String(result.decisionLogs[0]?.reason)).toMatch(c.reason);
    c.also?.();
  });

  test("no case crashed the process (no unhandled rejections) and the attacker's key-set server was never contacted", () => {
    expect(unhandled).toEqual([]);
    expect(evil.requests).toBe(0);
  });

  test("unknown kids cost at most one key-set refetch for the whole suite (penalty box)", () => {
    // 1 prefetch at init + at most 1 refetch for the first unknown kid; the penalty box blocks the rest.
    expect(h.jwks.requests).toBeLessThanOrEqual(2);
  });

  test("no token, signature or private key appears in any captured log or metric line", () => {
    expect(output.lines.length).toBeGreaterThan(CASES.length);
    expect(secrets.size).toBeGreaterThan(20);
    expect(secrets.foundIn(output.lines.join("\n"))).toEqual([]);
  });
});
