import { MalformedEventError, MissingTokenError } from "../src/errors";
import { bearerToken, readEvent } from "../src/event";
import { eventFor, loadEvent } from "./support/events";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

describe("bearerToken", () => {
  it.each([
    [`Bearer ${JWT}`, JWT],
    [`bearer ${JWT}`, JWT],
    [`BEARER ${JWT}`, JWT],
    [`  Bearer   ${JWT}  `, JWT],
  ])("accepts %p", (value, token) => expect(bearerToken(value)).toBe(token));

  it.each<[string, string | undefined]>([
    ["no value", undefined],
    ["an empty value", ""],
    ["Bearer alone", "Bearer"],
    ["Bearer and a space", "Bearer "],
    ["a token without scheme", JWT],
    ["the Basic scheme", `Basic ${JWT}`],
    ["two tokens", `Bearer ${JWT} ${JWT}`],
    ["two comma-joined values", `Bearer ${JWT},Bearer ${JWT}`],
    ["a tab separator", `Bearer\t${JWT}`],
    ["a 20 kB token", `Bearer ${"a".repeat(20_000)}`],
  ])("rejects %s as a missing token", (_case, value) => expect(bearerToken(value)).toBeInstanceOf(MissingTokenError));
});

describe("readEvent", () => {
  it("reads a REST TOKEN event", () => {
    const request = readEvent(eventFor("token", JWT, "GET /pets"));
    expect(request).toMatchObject({ kind: "TOKEN", route: "GET /pets", token: JWT });
    expect(request.requestId).toBeUndefined();
  });

  it("reads a REST REQUEST event with its request id", () => {
    const request = readEvent(eventFor("request", JWT, "POST /pets"));
    expect(request).toMatchObject({ kind: "REQUEST", route: "POST /pets", token: JWT, requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" });
  });

  it("reads an HTTP API 2.0 event", () => {
    const request = readEvent(eventFor("http-api", JWT, "GET /pets/1"));
    expect(request).toMatchObject({ kind: "HTTP", route: "GET /pets/1", token: JWT, requestId: "JKJaXmPLvHcESHA=" });
    expect(request.arn.stagePrefix).toBe("arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/$default");
  });

  it("finds the Authorization header whatever its case", () => {
    const event = eventFor("request", JWT);
    event.headers = { aUtHoRiZaTiOn: `Bearer ${JWT}` };
    delete event.multiValueHeaders;
    expect(readEvent(event).token).toBe(JWT);
  });

  it("uses the HTTP API identity source when the header is absent", () => {
    const event = eventFor("http-api", JWT);
    event.headers = {};
    expect(readEvent(event).token).toBe(JWT);
  });

  it.each<[string, (e: Record<string, unknown>) => void]>([
    ["no headers", (e) => { e.headers = null; e.multiValueHeaders = null; }],
    ["two different Authorization headers", (e) => { e.headers = { Authorization: `Bearer ${JWT}`, authorization: "Bearer other" }; }],
    ["two multi-value Authorization values", (e) => { e.multiValueHeaders = { Authorization: [`Bearer ${JWT}`, `Bearer ${JWT}`] }; }],
    ["a non-string Authorization", (e) => { e.headers = { Authorization: 42 }; }],
  ])("gives REQUEST events with %s no token", (_case, mutate) => {
    const event = eventFor("request", JWT);
    mutate(event);
    expect(readEvent(event).token).toBeInstanceOf(MissingTokenError);
  });

  it.each<[string, unknown]>([
    ["null", null],
    ["an array", []],
    ["an unknown type", { ...loadEvent("token"), type: "COOKIE" }],
    ["a TOKEN event without methodArn", { type: "TOKEN", authorizationToken: `Bearer ${JWT}` }],
    ["a REQUEST event with a numeric methodArn", { ...loadEvent("request"), methodArn: 7 }],
    ["an HTTP API event without routeArn", { ...loadEvent("http-api"), routeArn: undefined }],
    ["a non-execute-api ARN", { ...loadEvent("token"), methodArn: "arn:aws:s3:::bucket/key" }],
  ])("treats %s as a malformed event (our failure)", (_case, event) => {
    expect(() => readEvent(event)).toThrow(MalformedEventError);
  });
});

describe("readEvent: the scheme and the sender evidence for bound tokens", () => {
  const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

  it("reads the DPoP scheme like Bearer (case-insensitive), and bearerToken still takes Bearer only", () => {
    const event = { ...loadEvent("request"), headers: { Authorization: `dpop ${JWT}`, DPoP: "p.r.f" }, multiValueHeaders: {} };
    expect(readEvent(event)).toMatchObject({ token: JWT, scheme: "DPoP", sender: { dpopProof: "p.r.f" } });
    expect(bearerToken(`DPoP ${JWT}`)).toBeInstanceOf(MissingTokenError);
  });

  it("reads a REST REQUEST event's method, host, stage and client certificate", () => {
    const event = loadEvent("request") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    event.requestContext.identity.clientCert = { clientCertPem: CERT };
    expect(readEvent(event).sender).toEqual({ method: "GET", domainName: "abcdef1234.execute-api.eu-west-1.amazonaws.com", stage: "prod", requestPath: "/prod/pets", clientCertPem: CERT });
  });

  it("reads an HTTP API event's method, domain, stage and client certificate", () => {
    const event = loadEvent("http-api") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    event.requestContext.authentication = { clientCert: { clientCertPem: CERT } };
    event.headers.dpop = "p.r.f";
    expect(readEvent(event)).toMatchObject({ scheme: "Bearer", sender: { method: "GET", domainName: "abcdef1234.execute-api.eu-west-1.amazonaws.com", stage: "$default", clientCertPem: CERT, dpopProof: "p.r.f" } });
  });

  it("marks several DPoP headers as ambiguous, and gives TOKEN events no evidence", () => {
    const event = { ...loadEvent("request"), headers: { DPoP: "a.b.c" }, multiValueHeaders: { DPoP: ["a.b.c", "d.e.f"] } };
    expect(typeof readEvent(event).sender.dpopProof).toBe("symbol");
    expect(readEvent(eventFor("token", JWT)).sender).toEqual({});
  });
});
