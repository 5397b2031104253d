import { join } from "node:path";
import type { Context } from "aws-lambda";
import type { Env } from "../../../src/config";
import { DECISIONS } from "../../../src/errors";
import { type AuthorizerHandler, createHandler, INTERNAL_ERROR, initialize, UNAUTHORIZED } from "../../../src/handler";
import { createObservability } from "../../../src/observability";
import type { AuthorizerResponse } from "../../../src/response";
import { startJwksServer, type JwksServer, type TestTls } from "../../support/jwks-server";
import { generateKey, signJwt, TEST_CLIENT_ID, TEST_POOL_ID, type TestKey } from "../../support/keys";
import { type CapturedOutput, captureOutput, emfMetricNames, lambdaContext, parseLines } from "../../support/capture";
import { judgeAnswer } from "../../support/api-gateway";

export const REPO_ROOT = join(__dirname, "..", "..", "..");
export const EXAMPLE_RULES = join(REPO_ROOT, "access-rules.example.json");

/** What API Gateway would make of one handler result. */
export type Verdict = "Allow" | "Deny" | "Unauthorized" | "Error";

export interface Invocation {
  /** "Other" = the handler resolved or rejected with something API Gateway would not understand. */
  readonly verdict: Verdict | "Other";
  /** The HTTP status the client would see. */
  readonly status: 200 | 401 | 403 | 500;
  readonly response?: AuthorizerResponse;
  readonly thrown?: unknown;
  readonly ms: number;
  /** Decision metrics (Allow/Deny/Expired/Invalid/Error) emitted during this invocation. */
  readonly decisions: string[];
  /** Decision log lines written during this invocation. */
  readonly decisionLogs: Record<string, unknown>[];
}

export const STATUS: Record<Verdict | "Other", Invocation["status"]> = {
  Allow: 200,
  Deny: 403,
  Unauthorized: 401,
  Error: 500,
  Other: 500,
};

/** The requested ARN of an event, if it has one (for judging a policy). */
function requestedArn(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const e = event as Record<string, unknown>;
  const arn = e.version === "2.0" ? e.routeArn : e.methodArn;
  return typeof arn === "string" ? arn : undefined;
}

/** Judges a resolved answer the way API Gateway would, with the independent IAM simulator (test/support/api-gateway.ts). */
export function judge(event: unknown, response: unknown): Verdict | "Other" {
  const arn = requestedArn(event);
  if (arn === undefined && !(typeof response === "object" && response !== null && "isAuthorized" in response)) return "Other";
  const verdict = judgeAnswer(response, arn ?? "");
  return verdict === "Invalid" ? "Other" : verdict;
}

export function fakeContext(): Context {
  return lambdaContext({
    functionName: "jwt-authorizer-security-test",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jwt-authorizer-security-test",
    awsRequestId: "00000000-0000-4000-8000-000000000000",
    logGroupName: "/aws/lambda/jwt-authorizer-security-test",
    logStreamName: "test",
    getRemainingTimeInMillis: () => 10_000,
  });
}

/**
 * Secrets that must never appear in any log line or trace document: whole tokens, their signature
 * segments, private keys (PEM body and JWK `d`). Short junk strings are not registered (they would
 * match by accident).
 */
export class SecretRegistry {
  private readonly secrets = new Set<string>();
  token(token: string): string {
    if (token.length >= 24) this.secrets.add(token);
    const parts = token.split(".");
    const signature = parts[parts.length - 1];
    if (parts.length >= 3 && signature.length >= 16) this.secrets.add(signature);
    return token;
  }
  key(key: TestKey): TestKey {
    const pem = key.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    const body = pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    this.secrets.add(body.slice(0, 64));
    const d = (key.privateKey.export({ format: "jwk" }) as { d?: string }).d;
    if (d) this.secrets.add(d);
    return key;
  }
  raw(value: string): void {
    if (value.length >= 16) this.secrets.add(value);
  }
  get size(): number {
    return this.secrets.size;
  }
  /** The registered secrets found in `text` (abbreviated, so a failure message does not itself leak much). */
  foundIn(text: string): string[] {
    const found: string[] = [];
    for (const s of this.secrets) if (text.includes(s)) found.push(`${s.slice(0, 12)}…(${s.length} chars)`);
    return found;
  }
}

export interface Harness {
  readonly jwks: JwksServer;
  /** The key the JWKS server publishes. */
  readonly trusted: TestKey;
  /** A key nobody trusts. */
  readonly attacker: TestKey;
  readonly env: Env;
  readonly handler: AuthorizerHandler;
  /** The key-set prefetch started at init. */
  readonly ready: Promise<unknown>;
  readonly output: CapturedOutput;
  readonly secrets: SecretRegistry;
  /** Signs with `key` and registers the token as a secret. */
  sign(payload: Record<string, unknown>, key: TestKey, header?: Record<string, unknown>): string;
  invoke(event: unknown): Promise<Invocation>;
  /** Every line captured so far, with the registered secrets that appear in them (none expected). */
  leaks(): string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Environment on top of the defaults (Cognito test pool, JWKS_URI = local server, example rules). */
  readonly env?: Record<string, string | undefined>;
  /** Overrides the whole environment: (jwksUri, serverUrl) → env. */
  readonly envFor?: (jwks: JwksServer) => Record<string, string | undefined>;
  /** Runs after the JWKS server starts and before initialize() (e.g. to break the server for a cold start). */
  readonly beforeInit?: (jwks: JwksServer) => void;
  /** Skip awaiting the key-set prefetch. */
  readonly noHydrateWait?: boolean;
  /** TLS material for the JWKS server (to share one CA with other local key-set servers). */
  readonly tls?: TestTls;
  /** Existing capture to share between several harnesses of one file. */
  readonly output?: CapturedOutput;
  readonly secrets?: SecretRegistry;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const secrets = options.secrets ?? new SecretRegistry();
  const trusted = secrets.key(generateKey("trusted-kid-1"));
  const attacker = secrets.key(generateKey("attacker-kid"));
  const jwks = await startJwksServer([trusted.jwk], options.tls);
  secrets.raw(jwks.tls.key.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "").slice(0, 64));
  const base: Record<string, string | undefined> = options.envFor
    ? options.envFor(jwks)
    : {
        USER_POOL_ID: TEST_POOL_ID,
        CLIENT_ID: TEST_CLIENT_ID,
        JWKS_URI: jwks.jwksUri,
        JWKS_FETCH_TIMEOUT_MS: "500",
        JWKS_PENALTY_SECONDS: "10",
        ACCESS_RULES_FILE: EXAMPLE_RULES,
      };
  const env: Env = { ...base, ...options.env };
  options.beforeInit?.(jwks);
  const ownOutput = !options.output;
  const output = options.output ?? captureOutput();
  const deps = initialize(env, createObservability(env), { fetchOptions: { ca: jwks.tls.caCert } });
  const handler = createHandler(deps);
  if (!options.noHydrateWait) await deps.ready;
  const context = fakeContext();

  return {
    jwks,
    trusted,
    attacker,
    env,
    handler,
    ready: deps.ready,
    output,
    secrets,
    sign: (payload, key, header) => secrets.token(signJwt(payload, key, header)),
    async invoke(event) {
      const mark = output.lines.length;
      const started = performance.now();
      let verdict: Verdict | "Other";
      let response: AuthorizerResponse | undefined;
      let thrown: unknown;
      try {
        response = await handler(event, context);
        verdict = judge(event, response);
      } catch (err) {
        thrown = err;
        const message = err instanceof Error ? err.message : undefined;
        verdict = message === UNAUTHORIZED ? "Unauthorized" : message === INTERNAL_ERROR ? "Error" : "Other";
      }
      const ms = performance.now() - started;
      const records = parseLines(output.since(mark));
      const decisions = emfMetricNames(records).filter((n) => (DECISIONS as readonly string[]).includes(n));
      const decisionLogs = records.filter((r) => r.message === "decision");
      return { verdict, status: STATUS[verdict], response, thrown, ms, decisions, decisionLogs };
    },
    leaks() {
      return secrets.foundIn(output.lines.join("\n"));
    },
    async close() {
      if (ownOutput) output.stop();
      await jwks.close().catch(() => undefined);
    },
  };
}

/** The decision metric each verdict must be counted as. */
export const METRICS_FOR: Record<Verdict, readonly string[]> = {
  Allow: ["Allow"],
  Deny: ["Deny"],
  Unauthorized: ["Expired", "Invalid"],
  Error: ["Error"],
};

/** A file's harness under its own output capture: started before the tests, closed after. Call at top level. */
export function useHarness(secrets: SecretRegistry): { readonly h: Harness; readonly output: CapturedOutput } {
  const suite = {} as { h: Harness; output: CapturedOutput };
  beforeAll(async () => {
    suite.output = captureOutput();
    suite.h = await startHarness({ output: suite.output, secrets });
  });
  afterAll(async () => {
    await suite.h.close();
    suite.output.stop();
  });
  return suite;
}
