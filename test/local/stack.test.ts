/**
 * The no-Docker local stack, driven with real HTTP on 127.0.0.1: the local issuer, the BUILT bundle
 * (dist/index.js, `npm run build` runs before jest in `npm test`) behind the RIE-compatible invoke URL,
 * and the API-Gateway-like gateway in front of the echo backend.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOCAL_API, LOCAL_CLIENT_CERT_HEADER } from "../../src/local/gateway";
import { dpopProofFor, localClientCertificate, newDpopKey } from "../../src/local/sender";
import { startLocalStack, type LocalStack } from "../../src/local/stack";
import { LOCAL_ISSUER } from "../../src/local/tokens";
import { eventFor } from "../support/events";
import { bearer, http } from "./http";

let stack: LocalStack;
let stateDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "authz-local-"));
  stack = await startLocalStack({ stateDir, cacheTtlSeconds: 300, onAuthorizerLog: (line) => logLines.push(line) });
});

afterAll(async () => {
  await stack?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Every new token is a new cache key: tests stay independent of each other's cached decisions. */
const token = async (opts: Parameters<LocalStack["mintToken"]>[0] = {}) => await stack.mintToken(opts);

const tamper = (jwt: string) => {
  const [h, p, s] = jwt.split(".");
  const sig = Buffer.from(s, "base64url");
  sig[10] ^= 0xff;
  return `${h}.${p}.${sig.toString("base64url")}`;
};

describe("addresses", () => {
  it("binds every server to 127.0.0.1 and serves the invoke URL on the RIE's path", () => {
    expect(stack.issuerUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.invokeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/2015-03-31\/functions\/function\/invocations$/);
    expect(readFileSync(stack.caFile, "utf8")).toContain("BEGIN CERTIFICATE");
  });
});

describe("the function behind the stack", () => {
  it("reports its first invocation as a cold start, like a fresh Lambda container, and later ones as warm", async () => {
    // Runs first: no invocation has happened yet in this stack.
    expect(stack.authorizerInvocations()).toBe(0);
    for (let i = 0; i < 2; i += 1) {
      await http(`${stack.gatewayUrl}/pets`, { headers: bearer(await token()) });
    }
    const records = logLines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = records.filter((r) => r.message === "decision");
    expect(decisions.map((d) => [d.decision, d.cold_start])).toEqual([["Allow", true], ["Allow", false]]);
    expect(records.filter((r) => "ColdStart" in r)).toHaveLength(1);
    // The raw token never reaches the logs.
    expect(logLines.join("\n")).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });
});

describe("gateway", () => {
  it("allows GET /pets with pets/read: 200 from the backend, echoing the verified claims", async () => {
    const res = await http(`${stack.gatewayUrl}/pets`, { headers: bearer(await token({ scopes: ["pets/read"], sub: "alice-sub" })) });
    expect(res.status).toBe(200);
    const body = res.json<{ route: string; authorizer: Record<string, unknown> }>();
    expect(body.route).toBe("GET /pets");
    expect(body.authorizer).toMatchObject({ principalId: "alice-sub", sub: "alice-sub", scope: "pets/read", issuer: LOCAL_ISSUER });
  });

  it("answers 401 for an expired token", async () => {
    const res = await http(`${stack.gatewayUrl}/pets`, { headers: bearer(await token({ expired: true })) });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ message: "Unauthorized" });
  });

  it("answers 401 for a bad signature", async () => {
    const res = await http(`${stack.gatewayUrl}/pets`, { headers: bearer(tamper(await token())) });
    expect(res.status).toBe(401);
  });

  it("answers 401 without calling the authorizer when the Authorization header is missing", async () => {
    const before = stack.authorizerInvocations();
    const res = await http(`${stack.gatewayUrl}/pets`);
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ message: "Unauthorized" });
    expect(stack.authorizerInvocations()).toBe(before);
  });

  it("answers 403 for a valid token on a route it is not permitted (explicit Deny)", async () => {
    const res = await http(`${stack.gatewayUrl}/admin/users`, { headers: bearer(await token({ scopes: ["pets/read"] })) });
    expect(res.status).toBe(403);
    expect(res.json<{ message: string }>().message).toMatch(/explicit deny/);
  });

  it("lets the admin group through ANY /admin/*", async () => {
    const res = await http(`${stack.gatewayUrl}/admin/users`, { method: "DELETE", headers: bearer(await token({ scopes: [], groups: ["admin"] })) });
    expect(res.status).toBe(200);
    expect(res.json<{ route: string }>().route).toBe("DELETE /admin/users");
  });

  it("keys its cache on the token, method and path, as the template's identity sources do", async () => {
    const headers = bearer(await token({ scopes: ["pets/read"] }));
    const before = stack.authorizerInvocations();

    const first = await http(`${stack.gatewayUrl}/pets`, { headers });
    expect(first.status).toBe(200);
    expect(first.headers["x-local-authorizer-cache"]).toBe("miss");
    expect(stack.authorizerInvocations()).toBe(before + 1);

    const second = await http(`${stack.gatewayUrl}/pets`, { headers });
    const other = await http(`${stack.gatewayUrl}/pets/42`, { headers });
    const write = await http(`${stack.gatewayUrl}/pets`, { method: "POST", headers, body: "{}" });
    const admin = await http(`${stack.gatewayUrl}/admin/x`, { headers });
    const otherAgain = await http(`${stack.gatewayUrl}/pets/42`, { headers });

    expect([second.status, other.status, write.status, admin.status, otherAgain.status]).toEqual([200, 200, 403, 403, 200]);
    expect([second, other, write, admin, otherAgain].map((r) => r.headers["x-local-authorizer-cache"])).toEqual(["hit", "miss", "miss", "miss", "hit"]);
    expect(stack.authorizerInvocations()).toBe(before + 4);
  });

  it("makes one authorizer call for concurrent first requests with one token", async () => {
    const headers = bearer(await token({ scopes: ["pets/read", "pets/write"] }));
    const before = stack.authorizerInvocations();
    const routes = ["/pets", "/pets", "/pets", "/pets", "/pets"];
    const answers = await Promise.all(routes.map((path) => http(`${stack.gatewayUrl}${path}`, { headers })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(stack.authorizerInvocations()).toBe(before + 1);
  });
});

describe("invoke URL (RIE-compatible)", () => {
  const invoke = async (event: unknown) => http(stack.invokeUrl, { method: "POST", body: JSON.stringify(event) });

  it("returns the handler's policy for the sample TOKEN event", async () => {
    const res = await invoke(eventFor("token", await token({ scopes: ["pets/read"], sub: "bob" })));
    expect(res.status).toBe(200);
    const body = res.json<{ principalId: string; policyDocument: { Statement: { Effect: string; Resource: string[] }[] } }>();
    expect(body.principalId).toBe("bob");
    expect(body.policyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: "Allow", Resource: expect.arrayContaining(["arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets"]) }),
    ]);
  });

  it("returns the HTTP API simple response for the sample 2.0 event", async () => {
    const res = await invoke(eventFor("http-api", await token({ scopes: ["pets/read"] })));
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ isAuthorized: true });
  });

  it("answers a thrown Unauthorized the way the RIE does: 200 with the runtime's error document", async () => {
    const res = await invoke(eventFor("request", await token({ expired: true })));
    expect(res.status).toBe(200);
    const body = res.json<{ errorType: string; errorMessage: string; trace: string[] }>();
    expect(body.errorType).toBe("Error");
    expect(body.errorMessage).toBe("Unauthorized");
    expect(Array.isArray(body.trace)).toBe(true);
  });

  it("counts direct invocations too, and 404s other paths", async () => {
    const before = stack.authorizerInvocations();
    await invoke(eventFor("token", tamper(await token())));
    expect(stack.authorizerInvocations()).toBe(before + 1);
    const other = await http(stack.invokeUrl.replace("/invocations", "/other"), { method: "POST", body: "{}" });
    expect(other.status).toBe(404);
  });
});

describe("an authorizer that fails (our error, not the caller's)", () => {
  it("makes the gateway answer 500 and the invoke URL return the thrown 'Authorizer error'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "authz-local-bad-"));
    // An invalid configuration: the handler initialises anyway and fails every request as our error.
    const broken = await startLocalStack({ stateDir: dir, authorizerEnv: { USER_POOL_ID: "not-a-pool" } });
    try {
      const jwt = await broken.mintToken({});
      const viaGateway = await http(`${broken.gatewayUrl}/pets`, { headers: bearer(jwt) });
      expect(viaGateway.status).toBe(500);
      const direct = await http(broken.invokeUrl, { method: "POST", body: JSON.stringify(eventFor("token", jwt)) });
      expect(direct.json()).toMatchObject({ errorType: "Error", errorMessage: "Authorizer error" });
    } finally {
      await broken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sender-constrained tokens through the gateway (BOUND_TOKENS=accept, no caching)", () => {
  let bound: LocalStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "authz-local-bound-"));
    bound = await startLocalStack({ stateDir: dir, cacheTtlSeconds: 0, authorizerEnv: { BOUND_TOKENS: "accept" } });
  });
  afterAll(async () => {
    await bound?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes the DPoP header through: a fresh proof is a 200, the same proof again a 401", async () => {
    const key = newDpopKey();
    const jwt = await bound.mintToken({ claims: { cnf: { jkt: key.jkt } } });
    // No DPOP_PUBLIC_BASE_URL: the authorizer rebuilds https://{Host}{requestContext.path}.
    const htu = `https://${new URL(bound.gatewayUrl).host}/${LOCAL_API.stage}/pets`;
    const headers = { authorization: `DPoP ${jwt}`, dpop: dpopProofFor(key, { method: "GET", url: htu, accessToken: jwt }) };
    expect((await http(`${bound.gatewayUrl}/pets`, { headers })).status).toBe(200);
    expect((await http(`${bound.gatewayUrl}/pets`, { headers })).status).toBe(401);
    expect((await http(`${bound.gatewayUrl}/pets`, { headers: bearer(jwt) })).status).toBe(401);
  });

  it("takes the client certificate from the local-only x-local-client-cert header", async () => {
    const certificate = await localClientCertificate(dir);
    const jwt = await bound.mintToken({ claims: { cnf: { "x5t#S256": certificate.x5t } } });
    const withCert = { ...bearer(jwt), [LOCAL_CLIENT_CERT_HEADER]: Buffer.from(certificate.pem).toString("base64") };
    expect((await http(`${bound.gatewayUrl}/pets`, { headers: withCert })).status).toBe(200);
    expect((await http(`${bound.gatewayUrl}/pets`, { headers: bearer(jwt) })).status).toBe(401);
  });
});
