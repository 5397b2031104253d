/**
 * fast-check properties of DPoP-bound tokens through the real handler, a real HTTPS JWKS server and
 * real proof keys: no proof that was not signed by the key in the token's cnf.jkt is ever accepted,
 * and any DPoP header that is not such a proof is a 401.
 */
import fc from "fast-check";
import type { Env } from "../../src/config";
import { DECISIONS } from "../../src/errors";
import { createHandler, initialize } from "../../src/handler";
import { createObservability } from "../../src/observability";
import { captureStdout, emittedMetrics, lambdaContext } from "../support/capture";
import { type DpopKey, dpopProof, generateDpopKey, withSender } from "../support/dpop";
import { eventFor } from "../support/events";
import { type JwksServer, startJwksServer } from "../support/jwks-server";
import { cognitoAccessClaims, generateKey, signJwt, TEST_CLIENT_ID, TEST_POOL_ID, type TestKey } from "../support/keys";

const RUNS = Number(process.env.SECURITY_FC_RUNS ?? 200);
const URLS = {
  request: "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/prod/pets",
  "http-api": "https://abcdef1234.execute-api.eu-west-1.amazonaws.com/pets",
} as const;

let server: JwksServer;
let issuerKey: TestKey;
let keys: DpopKey[];
let handler: ReturnType<typeof createHandler>;

beforeAll(async () => {
  issuerKey = generateKey("issuer-1");
  keys = [generateDpopKey("ES256"), generateDpopKey("ES256"), generateDpopKey("ES256"), generateDpopKey("RS256")];
  server = await startJwksServer([issuerKey.jwk]);
  const env: Env = { USER_POOL_ID: TEST_POOL_ID, CLIENT_ID: TEST_CLIENT_ID, JWKS_URI: server.jwksUri, BOUND_TOKENS: "accept", POWERTOOLS_METRICS_NAMESPACE: "T" };
  const init = await captureStdout(async () => {
    const deps = initialize(env, createObservability(env), { fetchOptions: { ca: server.tls.caCert } });
    await deps.ready;
    return deps;
  });
  handler = createHandler(init.result!);
});
afterAll(() => server.close());

/** The one decision metric an invocation emitted. */
async function decide(event: unknown): Promise<string> {
  const captured = await captureStdout(() => handler(event, lambdaContext()));
  const metrics = emittedMetrics(captured.records);
  const decisions = DECISIONS.filter((d) => metrics[d] !== undefined);
  expect(decisions).toHaveLength(1);
  return decisions[0];
}

const index = fc.integer({ min: 0, max: 3 });
const kind = fc.constantFrom<keyof typeof URLS>("request", "http-api");

describe("DPoP proofs (BOUND_TOKENS=accept)", () => {
  test("no proof that was not signed by the key in cnf.jkt is ever accepted (and every proof that was, is)", async () => {
    await fc.assert(
      fc.asyncProperty(kind, index, index, index, fc.boolean(), async (k, signer, named, bound, decorate) => {
        const jwt = signJwt(cognitoAccessClaims({ cnf: { jkt: keys[bound].jkt } }), issuerKey);
        // The header names `named`'s public key (optionally with extra members), the signature is `signer`'s.
        const jwk = decorate ? { ...keys[named].publicJwk, kid: "k", use: "sig" } : keys[named].publicJwk;
        const proof = dpopProof(keys[named], { htm: "GET", htu: URLS[k], accessToken: jwt, signer: keys[signer], header: { alg: keys[signer].alg, jwk } });
        const decision = await decide(withSender(eventFor(k, jwt), { authorization: `DPoP ${jwt}`, dpop: proof }));
        const genuine = signer === bound && named === bound;
        expect(decision).toBe(genuine ? "Allow" : "Invalid");
      }),
      { numRuns: RUNS },
    );
  });

  test("an arbitrary DPoP header with a DPoP-bound token is a 401", async () => {
    await fc.assert(
      fc.asyncProperty(kind, fc.oneof(fc.string({ maxLength: 400 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,80}\.[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{0,90}$/)), async (k, header) => {
        const jwt = signJwt(cognitoAccessClaims({ cnf: { jkt: keys[0].jkt } }), issuerKey);
        expect(await decide(withSender(eventFor(k, jwt), { authorization: `DPoP ${jwt}`, dpop: header }))).toBe("Invalid");
      }),
      { numRuns: RUNS },
    );
  });
});
