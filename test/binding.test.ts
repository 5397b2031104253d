/**
 * Sender-constrained tokens through the handler, with real keys, real proofs and a real HTTPS JWKS
 * server: certificate-bound tokens (RFC 8705 §3) and DPoP (RFC 9449), for each event kind.
 */
import { createHmac } from "node:crypto";
import type { Env } from "../src/config";
import { DECISIONS } from "../src/errors";
import { createHandler, initialize, UNAUTHORIZED } from "../src/handler";
import { createObservability } from "../src/observability";
import type { PolicyResponse, SimpleResponse } from "../src/response";
import { captureStdout, emittedMetrics, lambdaContext, logRecords } from "./support/capture";
import { type ClientCertificate, type DpopKey, dpopProof, generateClientCertificate, generateDpopKey, type ProofOptions, withSender } from "./support/dpop";
import { eventFor } from "./support/events";
import { type JwksServer, startJwksServer } from "./support/jwks-server";
import { b64url, cognitoAccessClaims, generateKey, nowSeconds, signJwt, TEST_CLIENT_ID, TEST_POOL_ID, type TestKey } from "./support/keys";

let server: JwksServer;
let issuerKey: TestKey;
let client: DpopKey;
let other: DpopKey;
let rsaClient: DpopKey;
let cert: ClientCertificate;
let otherCert: ClientCertificate;

beforeAll(async () => {
  issuerKey = generateKey("issuer-1");
  client = generateDpopKey("ES256");
  other = generateDpopKey("ES256");
  rsaClient = generateDpopKey("RS256");
  [cert, otherCert] = await Promise.all([generateClientCertificate(), generateClientCertificate()]);
  server = await startJwksServer([issuerKey.jwk]);
});
afterAll(() => server.close());

async function makeHandler(extra: Env) {
  const env: Env = {
    USER_POOL_ID: TEST_POOL_ID,
    CLIENT_ID: TEST_CLIENT_ID,
    JWKS_URI: server.jwksUri,
    POWERTOOLS_SERVICE_NAME: "authorizer-under-test",
    POWERTOOLS_METRICS_NAMESPACE: "AuthorizerTest",
    ...extra,
  };
  const init = await captureStdout(async () => {
    const deps = initialize(env, createObservability(env), { fetchOptions: { ca: server.tls.caCert } });
    await deps.ready;
    return deps;
  });
  if (!init.result) throw init.error;
  return createHandler(init.result);
}

type Handler = Awaited<ReturnType<typeof makeHandler>>;
let accepting: Handler;
let refusing: Handler;
let requiring: Handler;
beforeAll(async () => {
  [accepting, refusing, requiring] = await Promise.all([
    makeHandler({ BOUND_TOKENS: "accept" }),
    makeHandler({}),
    makeHandler({ BOUND_TOKENS: "require" }),
  ]);
});

const token = (claims: Record<string, unknown> = {}) => signJwt(cognitoAccessClaims(claims), issuerKey);

async function call(handler: Handler, event: unknown) {
  const captured = await captureStdout(() => handler(event, lambdaContext()));
  const metrics = emittedMetrics(captured.records);
  const decisions = DECISIONS.filter((d) => metrics[d] !== undefined);
  const [log] = logRecords(captured.records, "decision");
  return { ...captured, decisions, reason: log?.reason };
}

function allowed(result: unknown): boolean {
  if ((result as SimpleResponse).isAuthorized !== undefined) return (result as SimpleResponse).isAuthorized;
  return (result as PolicyResponse).policyDocument.Statement.some((s) => s.Effect === "Allow");
}

/** The URL each sample event was sent to, as a client would name it in `htu`. */
const URLS = {
  request: "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/pets",
  "http-api": "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/pets",
} as const;
type Kind = keyof typeof URLS;

const hs256Proof = (options: ProofOptions) => {
  const input = `${b64url(JSON.stringify({ typ: "dpop+jwt", alg: "HS256", jwk: { kty: "oct", k: b64url("secret") } }))}.${b64url(
    JSON.stringify({ jti: "hs", htm: options.htm, htu: options.htu, iat: nowSeconds(), ath: "x" }),
  )}`;
  return `${input}.${createHmac("sha256", "secret").update(input).digest("base64url")}`;
};

interface Case {
  readonly name: string;
  /** The event: a DPoP-bound token for `client` with a fresh proof, changed as the case says. */
  readonly build: (kind: Kind) => Record<string, unknown>;
  /** undefined: accepted. */
  readonly reason?: string;
}

function dpopEvent(kind: Kind, tweak: { claims?: Record<string, unknown>; proof?: Partial<ProofOptions>; scheme?: string; key?: DpopKey; noProof?: boolean; proofs?: (p: string) => string[] } = {}) {
  const jwt = token({ cnf: { jkt: client.jkt }, ...tweak.claims });
  const proof = dpopProof(tweak.key ?? client, { htm: "GET", htu: URLS[kind], accessToken: jwt, ...tweak.proof });
  return withSender(eventFor(kind, jwt), {
    authorization: `${tweak.scheme ?? "DPoP"} ${jwt}`,
    ...(tweak.noProof ? {} : { dpop: tweak.proofs ? tweak.proofs(proof) : proof }),
  });
}

const DPOP_CASES: Case[] = [
  { name: "a fresh proof by the bound key is accepted", build: (k) => dpopEvent(k) },
  { name: "an RSA proof key is accepted", build: (k) => dpopEvent(k, { key: rsaClient, claims: { cnf: { jkt: rsaClient.jkt } } }) },
  { name: "the scheme is case-insensitive", build: (k) => dpopEvent(k, { scheme: "dpop" }) },
  { name: "the htu's query and fragment are ignored", build: (k) => dpopEvent(k, { proof: { htu: `${URLS[k]}?a=1#frag` } }) },
  { name: "missing DPoP header", build: (k) => dpopEvent(k, { noProof: true }), reason: "DpopProofMissingError" },
  { name: "several DPoP headers", build: (k) => dpopEvent(k, { proofs: (p) => [p, p] }), reason: "DpopProofMalformedError" },
  { name: "Bearer downgrade of a DPoP-bound token", build: (k) => dpopEvent(k, { scheme: "Bearer" }), reason: "DpopDowngradeError" },
  { name: "wrong method", build: (k) => dpopEvent(k, { proof: { htm: "POST" } }), reason: "DpopMethodMismatchError" },
  { name: "method in lower case", build: (k) => dpopEvent(k, { proof: { htm: "get" } }), reason: "DpopMethodMismatchError" },
  { name: "wrong URL (another path)", build: (k) => dpopEvent(k, { proof: { htu: URLS[k].replace("/pets", "/pets/1") } }), reason: "DpopUrlMismatchError" },
  { name: "wrong URL (another host)", build: (k) => dpopEvent(k, { proof: { htu: URLS[k].replace("abcdef1234", "evil") } }), reason: "DpopUrlMismatchError" },
  { name: "wrong URL (http)", build: (k) => dpopEvent(k, { proof: { htu: URLS[k].replace("https", "http") } }), reason: "DpopUrlMismatchError" },
  { name: "wrong ath", build: (k) => dpopEvent(k, { proof: { claims: { ath: b64url("not the hash") } } }), reason: "DpopAccessTokenHashError" },
  { name: "no ath", build: (k) => dpopEvent(k, { proof: { claims: { ath: undefined } } }), reason: "DpopAccessTokenHashError" },
  { name: "expired proof (iat 61 s ago)", build: (k) => dpopEvent(k, { proof: { iat: nowSeconds() - 61 } }), reason: "DpopProofExpiredError" },
  { name: "proof from the future (iat 61 s ahead)", build: (k) => dpopEvent(k, { proof: { iat: nowSeconds() + 61 } }), reason: "DpopProofExpiredError" },
  { name: "proof key ≠ cnf.jkt", build: (k) => dpopEvent(k, { key: other }), reason: "DpopKeyMismatchError" },
  { name: "signed by another key than its jwk", build: (k) => dpopEvent(k, { proof: { signer: other } }), reason: "DpopProofSignatureError" },
  { name: "symmetric alg (HS256, oct jwk)", build: (k) => withSender(dpopEvent(k), { dpop: hs256Proof({ htm: "GET", htu: URLS[k], accessToken: "" }) }), reason: "DpopProofAlgorithmError" },
  {
    name: "a private key in the jwk",
    build: (k) => dpopEvent(k, { proof: { header: { jwk: { ...client.publicJwk, d: client.privateKey.export({ format: "jwk" }).d } } } }),
    reason: "DpopProofKeyError",
  },
  { name: "no jwk", build: (k) => dpopEvent(k, { proof: { header: { jwk: undefined } } }), reason: "DpopProofKeyError" },
  { name: "typ JWT", build: (k) => dpopEvent(k, { proof: { header: { typ: "JWT" } } }), reason: "DpopProofTypeError" },
  { name: "alg none", build: (k) => dpopEvent(k, { proof: { header: { alg: "none" } } }), reason: "DpopProofAlgorithmError" },
  { name: "no jti", build: (k) => dpopEvent(k, { proof: { claims: { jti: undefined } } }), reason: "DpopProofMalformedError" },
  { name: "the proof is not a JWT", build: (k) => withSender(dpopEvent(k), { dpop: "not-a-proof" }), reason: "DpopProofMalformedError" },
  { name: "the DPoP scheme with an unbound token", build: (k) => dpopEvent(k, { claims: { cnf: undefined } }), reason: "DpopTokenNotBoundError" },
];

describe.each<Kind>(["request", "http-api"])("DPoP-bound tokens, %s event (BOUND_TOKENS=accept)", (kind) => {
  it.each(DPOP_CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const { result, error, decisions, reason } = await call(accepting, c.build(kind));
    if (c.reason === undefined) {
      expect(error).toBeUndefined();
      expect(allowed(result)).toBe(true);
      expect(decisions).toEqual(["Allow"]);
    } else {
      expect((error as Error)?.message).toBe(UNAUTHORIZED);
      expect(decisions).toEqual(["Invalid"]);
      expect(reason).toBe(c.reason);
    }
  });

  it("accepts a proof once: the same proof again is a replay (401)", async () => {
    const event = dpopEvent(kind);
    expect((await call(accepting, event)).decisions).toEqual(["Allow"]);
    const again = await call(accepting, event);
    expect(again.decisions).toEqual(["Invalid"]);
    expect(again.reason).toBe("DpopProofReplayedError");
  });

  it("does not remember a proof that failed another check (its jti stays usable)", async () => {
    const jwt = token({ cnf: { jkt: client.jkt } });
    const jti = `jti-${kind}-retry`;
    const wrong = dpopProof(client, { htm: "POST", htu: URLS[kind], accessToken: jwt, jti });
    const right = dpopProof(client, { htm: "GET", htu: URLS[kind], accessToken: jwt, jti });
    expect((await call(accepting, withSender(eventFor(kind, jwt), { authorization: `DPoP ${jwt}`, dpop: wrong }))).reason).toBe("DpopMethodMismatchError");
    expect((await call(accepting, withSender(eventFor(kind, jwt), { authorization: `DPoP ${jwt}`, dpop: right }))).decisions).toEqual(["Allow"]);
  });

  it("refuses a DPoP-bound token under BOUND_TOKENS=refuse (the default), even with a valid proof", async () => {
    const { decisions, reason } = await call(refusing, dpopEvent(kind));
    expect(decisions).toEqual(["Invalid"]);
    expect(reason).toBe("BoundTokenRefusedError");
  });
});

function certEvent(kind: Kind, tokenCnf: Record<string, unknown> | undefined, pem: string | undefined) {
  const jwt = token({ cnf: tokenCnf });
  return withSender(eventFor(kind, jwt), pem === undefined ? {} : { certPem: pem });
}

describe.each<Kind>(["request", "http-api"])("certificate-bound tokens, %s event (BOUND_TOKENS=accept)", (kind) => {
  it.each([
    ["the matching certificate is accepted", () => certEvent(kind, { "x5t#S256": cert.x5t }, cert.pem), undefined],
    ["another certificate is a mismatch", () => certEvent(kind, { "x5t#S256": cert.x5t }, otherCert.pem), "ClientCertificateMismatchError"],
    ["no certificate", () => certEvent(kind, { "x5t#S256": cert.x5t }, undefined), "ClientCertificateMissingError"],
    ["a certificate that is not PEM", () => certEvent(kind, { "x5t#S256": cert.x5t }, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"), "ClientCertificateMismatchError"],
    ["x5t#S256 of another encoding (hex)", () => certEvent(kind, { "x5t#S256": Buffer.from(cert.x5t, "base64url").toString("hex") }, cert.pem), "ClientCertificateMismatchError"],
    ["cnf that is not an object", () => certEvent(kind, "x" as unknown as Record<string, unknown>, cert.pem), "UnsupportedBindingError"],
    ["cnf with neither x5t#S256 nor jkt", () => certEvent(kind, { jwk: client.publicJwk }, cert.pem), "UnsupportedBindingError"],
    ["a token without cnf, with a certificate: a bearer token as before", () => certEvent(kind, undefined, cert.pem), undefined],
  ] as const)("%s", async (_name, build, expected) => {
    const { result, decisions, reason } = await call(accepting, build());
    if (expected === undefined) {
      expect(decisions).toEqual(["Allow"]);
      expect(allowed(result)).toBe(true);
    } else {
      expect(decisions).toEqual(["Invalid"]);
      expect(reason).toBe(expected);
    }
  });

  it("requires both bindings when cnf holds both (certificate and DPoP key)", async () => {
    const jwt = token({ cnf: { jkt: client.jkt, "x5t#S256": cert.x5t } });
    const proof = () => dpopProof(client, { htm: "GET", htu: URLS[kind], accessToken: jwt });
    const base = eventFor(kind, jwt);
    expect((await call(accepting, withSender(base, { authorization: `DPoP ${jwt}`, dpop: proof(), certPem: cert.pem }))).decisions).toEqual(["Allow"]);
    expect((await call(accepting, withSender(base, { authorization: `DPoP ${jwt}`, dpop: proof(), certPem: otherCert.pem }))).reason).toBe("ClientCertificateMismatchError");
    expect((await call(accepting, withSender(base, { authorization: `DPoP ${jwt}`, certPem: cert.pem }))).reason).toBe("DpopProofMissingError");
  });
});

describe("BOUND_TOKENS modes", () => {
  it.each(["request", "http-api"] as const)("require: an unbound token is a 401 (%s); a bound one is accepted", async (kind) => {
    const unbound = await call(requiring, eventFor(kind, token()));
    expect([unbound.decisions, unbound.reason]).toEqual([["Invalid"], "UnboundTokenError"]);
    const bound = await call(requiring, certEvent(kind, { "x5t#S256": cert.x5t }, cert.pem));
    expect(bound.decisions).toEqual(["Allow"]);
  });

  it.each(["token", "request", "http-api"] as const)("refuse: an unbound token is allowed as before (%s); a certificate-bound one is a 401", async (kind) => {
    expect((await call(refusing, eventFor(kind, token()))).decisions).toEqual(["Allow"]);
    const bound = await call(refusing, kind === "token" ? eventFor(kind, token({ cnf: { "x5t#S256": cert.x5t } })) : certEvent(kind, { "x5t#S256": cert.x5t }, cert.pem));
    expect([bound.decisions, bound.reason]).toEqual([["Invalid"], "BoundTokenRefusedError"]);
  });
});

describe("TOKEN events carry no certificate and no proof", () => {
  it.each([
    ["a certificate-bound token", () => eventFor("token", token({ cnf: { "x5t#S256": cert.x5t } })), "ClientCertificateMissingError"],
    ["a DPoP-bound token as Bearer", () => eventFor("token", token({ cnf: { jkt: client.jkt } })), "DpopDowngradeError"],
    ["a DPoP-bound token as DPoP", () => withSender(eventFor("token", "x"), { authorization: `DPoP ${token({ cnf: { jkt: client.jkt } })}` }), "DpopProofMissingError"],
  ] as const)("%s is a 401", async (_name, build, expected) => {
    const { error, decisions, reason } = await call(accepting, build());
    expect((error as Error)?.message).toBe(UNAUTHORIZED);
    expect([decisions, reason]).toEqual([["Invalid"], expected]);
  });
});

describe("the request URL without DPOP_PUBLIC_BASE_URL", () => {
  it("is the REST event's domain and requestContext.path (a custom domain's base path included)", async () => {
    const jwt = token({ cnf: { jkt: client.jkt } });
    const base = eventFor("request", jwt) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    base.headers.Host = "api.example.com";
    base.requestContext = { ...base.requestContext, domainName: "api.example.com", path: "/v1/pets" };
    const send = (htu: string) => call(accepting, withSender(base, { authorization: `DPoP ${jwt}`, dpop: dpopProof(client, { htm: "GET", htu, accessToken: jwt }) }));
    expect((await send("https://api.example.com/v1/pets")).decisions).toEqual(["Allow"]);
    expect((await send("https://api.example.com/prod/pets")).reason).toBe("DpopUrlMismatchError");
  });

  it("is a 401 when the event names no domain at all", async () => {
    const event = dpopEvent("http-api") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    delete event.requestContext.domainName;
    delete event.headers.host;
    expect((await call(accepting, event)).reason).toBe("DpopUrlMismatchError");
  });
});

describe("DPOP_PUBLIC_BASE_URL (custom domains and base path mappings)", () => {
  let custom: Handler;
  beforeAll(async () => {
    custom = await makeHandler({ BOUND_TOKENS: "accept", DPOP_PUBLIC_BASE_URL: "https://api.example.com/v1,https://pets.example.com" });
  });

  it.each([
    ["https://api.example.com/v1/pets", "Allow"],
    ["https://pets.example.com/pets", "Allow"],
    ["https://API.example.com:443/v1/pets", "Allow"],
    ["https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/pets", "Invalid"],
    ["https://api.example.com/pets", "Invalid"],
  ])("htu %s → %s", async (htu, decision) => {
    const jwt = token({ cnf: { jkt: client.jkt } });
    const event = withSender(eventFor("request", jwt), { authorization: `DPoP ${jwt}`, dpop: dpopProof(client, { htm: "GET", htu, accessToken: jwt }) });
    expect((await call(custom, event)).decisions).toEqual([decision]);
  });
});
