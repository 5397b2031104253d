/**
 * The gateway's API Gateway semantics, against a scripted authorizer endpoint on 127.0.0.1 (its
 * answers are set per test): policy evaluation (explicit Deny wins, wildcards), the TTL cache keyed by
 * the identity source, and the answers API Gateway treats as invalid (500).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { evaluatePolicy, methodArnFor, parsePolicy, startGateway, type LocalGateway } from "../../src/local/gateway";
import { judgeAnswer } from "../support/api-gateway";
import { bearer, http } from "./http";

const STAGE = "arn:aws:execute-api:eu-west-1:123456789012:localapi/local";

let answer: { body: unknown; headers?: Record<string, string> } = { body: {} };
const events: Record<string, unknown>[] = [];
let authorizer: Server;
let invokeUrl: string;

beforeAll(async () => {
  authorizer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      events.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "application/json", ...answer.headers }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => authorizer.listen(0, "127.0.0.1", resolve));
  invokeUrl = `http://127.0.0.1:${(authorizer.address() as AddressInfo).port}/2015-03-31/functions/function/invocations`;
});

afterAll(async () => {
  authorizer.closeAllConnections();
  await new Promise((resolve) => authorizer.close(resolve));
});

const policy = (statements: { Effect: "Allow" | "Deny"; Resource: string | string[] }[], context: Record<string, unknown> = {}) => ({
  principalId: "user-1",
  policyDocument: { Version: "2012-10-17", Statement: statements.map((s) => ({ Action: "execute-api:Invoke", ...s })) },
  context,
});

async function withGateway(
  ttlSeconds: number,
  run: (gw: LocalGateway, clock: { now: number }) => Promise<void>,
  options: { cacheByRoute?: boolean } = {},
): Promise<void> {
  const clock = { now: 1_000_000 };
  const gw = await startGateway({ invokeUrl, cacheTtlSeconds: ttlSeconds, clock: () => clock.now, ...options });
  try {
    await run(gw, clock);
  } finally {
    await gw.close();
  }
}

describe("policy evaluation", () => {
  it("lets an explicit Deny win over a matching Allow", () => {
    const parsed = parsePolicy(policy([{ Effect: "Allow", Resource: `${STAGE}/*/*` }, { Effect: "Deny", Resource: `${STAGE}/DELETE/*` }]));
    if (typeof parsed === "string") throw new Error(parsed);
    expect(evaluatePolicy(parsed, methodArnFor("GET", "/pets"))).toBe("Allow");
    expect(evaluatePolicy(parsed, methodArnFor("DELETE", "/pets/1"))).toBe("ExplicitDeny");
    expect(evaluatePolicy(parsed, methodArnFor("GET", "/pets").replace("localapi", "otherapi"))).toBe("ImplicitDeny");
  });

  it("agrees with an independent IAM simulator on random policies and method ARNs", () => {
    const piece = fc.constantFrom("GET", "POST", "pets", "1", "a", "", "*", "?", "/", "?*", "x*y", "-", "%2F");
    const pattern = fc.array(piece, { maxLength: 6 }).map((p) => `${STAGE}/${p.join("")}`);
    const target = fc
      .record({ verb: fc.constantFrom("GET", "POST", "DELETE"), path: fc.array(fc.constantFrom("pets", "1", "a", "", "*", "?", "GET", "x-y"), { maxLength: 4 }) })
      .map(({ verb, path }) => `${STAGE}/${verb}/${path.join("/")}`);
    const statement = fc.record({ Effect: fc.constantFrom<"Allow" | "Deny">("Allow", "Deny"), Resource: fc.array(pattern, { minLength: 1, maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 3 }), target, (statements, arn) => {
        const answer = policy(statements);
        const parsed = parsePolicy(answer);
        if (typeof parsed === "string") throw new Error(parsed);
        const ours = evaluatePolicy(parsed, arn) === "Allow" ? "Allow" : "Deny";
        expect([arn, ours]).toEqual([arn, judgeAnswer(answer, arn)]);
      }),
      { numRuns: 2000 },
    );
  });

  it("matches ? as exactly one character", () => {
    const parsed = parsePolicy(policy([{ Effect: "Allow", Resource: `${STAGE}/GET/pets/?` }]));
    if (typeof parsed === "string") throw new Error(parsed);
    expect(evaluatePolicy(parsed, methodArnFor("GET", "/pets/7"))).toBe("Allow");
    expect(evaluatePolicy(parsed, methodArnFor("GET", "/pets/77"))).toBe("ImplicitDeny");
  });

  it.each([
    ["no principalId", { policyDocument: { Statement: [] } }],
    ["an object in the context", policy([{ Effect: "Allow", Resource: "*" }], { nested: { a: 1 } })],
    ["an array in the context", policy([{ Effect: "Allow", Resource: "*" }], { list: [1] })],
    ["a bad Effect", { principalId: "u", policyDocument: { Statement: [{ Action: "execute-api:Invoke", Effect: "Maybe", Resource: "*" }] } }],
  ])("rejects an answer with %s", (_why, body) => {
    expect(typeof parsePolicy(body)).toBe("string");
  });
});

describe("gateway against a scripted authorizer", () => {
  it("sends a REST REQUEST event with the method ARN and the Authorization header", async () => {
    answer = { body: policy([{ Effect: "Allow", Resource: `${STAGE}/GET/pets` }]) };
    events.length = 0;
    await withGateway(0, async (gw) => {
      const res = await http(`${gw.url}/pets?limit=2`, { headers: bearer("abc.def.ghi") });
      expect(res.status).toBe(200);
    });
    expect(events[0]).toMatchObject({
      type: "REQUEST",
      methodArn: `${STAGE}/GET/pets`,
      httpMethod: "GET",
      path: "/pets",
      queryStringParameters: { limit: "2" },
    });
    expect((events[0].headers as Record<string, string>).authorization).toBe("Bearer abc.def.ghi");
  });

  it("answers 500 for an invalid answer or a thrown error other than Unauthorized, 401 for Unauthorized", async () => {
    await withGateway(300, async (gw) => {
      answer = { body: policy([{ Effect: "Allow", Resource: "*" }], { nested: { no: true } }) };
      expect((await http(`${gw.url}/pets`, { headers: bearer("t1") })).status).toBe(500);
      answer = { body: { errorType: "Error", errorMessage: "Authorizer error", trace: [] } };
      expect((await http(`${gw.url}/pets`, { headers: bearer("t2") })).status).toBe(500);
      answer = { body: { errorType: "Error", errorMessage: "Unauthorized", trace: [] } };
      expect((await http(`${gw.url}/pets`, { headers: bearer("t3") })).status).toBe(401);
      // None of these is cached: the same token asks the authorizer again.
      expect((await http(`${gw.url}/pets`, { headers: bearer("t3") })).status).toBe(401);
      expect(gw.authorizerCalls()).toBe(4);
    });
  });

  it("keys the cache on the token, method and path by default, as the template's identity sources do", async () => {
    await withGateway(60, async (gw) => {
      answer = { body: policy([{ Effect: "Allow", Resource: `${STAGE}/GET/pets/1` }]) };
      const h = bearer("route-token");
      expect((await http(`${gw.url}/pets/1`, { headers: h })).status).toBe(200);
      answer = { body: policy([{ Effect: "Allow", Resource: `${STAGE}/GET/pets/2` }]) };
      expect((await http(`${gw.url}/pets/2`, { headers: h })).status).toBe(200);
      expect((await http(`${gw.url}/pets/1`, { headers: h })).status).toBe(200);
      expect([gw.authorizerCalls(), gw.cacheHits()]).toEqual([2, 1]);
    });
  });

  it("caches a Deny too, and with the token as the only identity source reuses one policy for every route until the TTL ends", async () => {
    await withGateway(60, async (gw, clock) => {
      answer = { body: policy([{ Effect: "Allow", Resource: `${STAGE}/GET/pets` }, { Effect: "Deny", Resource: `${STAGE}/POST/pets` }]) };
      const h = bearer("same-token");
      expect((await http(`${gw.url}/pets`, { method: "POST", headers: h })).status).toBe(403);
      expect((await http(`${gw.url}/pets`, { headers: h })).status).toBe(200);
      expect((await http(`${gw.url}/other`, { headers: h })).status).toBe(403);
      expect(gw.authorizerCalls()).toBe(1);
      expect(gw.cacheHits()).toBe(2);

      clock.now += 59_999;
      await http(`${gw.url}/pets`, { headers: h });
      expect(gw.authorizerCalls()).toBe(1);
      clock.now += 1;
      await http(`${gw.url}/pets`, { headers: h });
      expect(gw.authorizerCalls()).toBe(2);
      // A different identity source is a different cache key.
      await http(`${gw.url}/pets`, { headers: bearer("another-token") });
      expect(gw.authorizerCalls()).toBe(3);
    }, { cacheByRoute: false });
  });

  it("calls the authorizer on every request with TTL 0", async () => {
    answer = { body: policy([{ Effect: "Allow", Resource: `${STAGE}/*` }]) };
    await withGateway(0, async (gw) => {
      for (let i = 0; i < 3; i += 1) expect((await http(`${gw.url}/pets`, { headers: bearer("x") })).status).toBe(200);
      expect(gw.authorizerCalls()).toBe(3);
      expect(gw.cacheHits()).toBe(0);
    });
  });
});
