import { existsSync } from "node:fs";
import { startGateway } from "./gateway";
import { JWKS_PATH, startIssuer } from "./issuer";
import { INVOKE_PATH, type LogMode, startInvokeServer } from "./invoke-server";
import { projectPaths } from "./project";
import { defaultStateDir, loadOrCreateState } from "./state";
import { LOCAL_CLIENT_ID, LOCAL_REGION, LOCAL_USER_POOL_ID, type MintOptions } from "./tokens";

/** The ports `npm start` uses: the invoke server takes the RIE's published port, so every curl works in both modes. */
export const DEFAULT_PORTS = { issuer: 9443, invoke: 9000, gateway: 3000 } as const;

export interface LocalStackOptions {
  /** Interface every server binds; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) = a random free port. `npm start` uses 9443 / 9000 / 3000. */
  issuerPort?: number;
  invokePort?: number;
  gatewayPort?: number;
  /** The gateway's authorizer cache TTL; default 300, 0 turns caching off. */
  cacheTtlSeconds?: number;
  /** Merged over the embedded default environment of the authorizer (see localAuthorizerEnv). */
  authorizerEnv?: Record<string, string>;
  /** Where the issuer keeps its keys and CA; default `.local/` in the working directory. */
  stateDir?: string;
  /** Where the function's logs go (default "ignore"; `npm start` uses "inherit"). */
  authorizerLogs?: LogMode;
  /** Receives each line the function logs (decision lines, EMF metrics), instead of authorizerLogs. */
  onAuthorizerLog?: (line: string) => void;
  /** Print the RIE-style START / END / REPORT lines (default false). */
  reportLines?: boolean;
}

export interface LocalStack {
  /** `https://127.0.0.1:<port>`: the local issuer (JWKS, discovery, /token). */
  issuerUrl: string;
  /** `http://127.0.0.1:<port>/2015-03-31/functions/function/invocations`, the RIE's path. */
  invokeUrl: string;
  /** `http://127.0.0.1:<port>`: the API-Gateway-like proxy in front of the echo backend. */
  gatewayUrl: string;
  /** The local CA certificate (PEM) that signed the issuer's certificate. */
  caFile: string;
  mintToken(opts?: MintOptions): Promise<string> | string;
  /** Handler invocations so far (through the gateway or straight to invokeUrl). */
  authorizerInvocations(): number;
  close(): Promise<void>;
}

/**
 * The embedded default configuration of the authorizer in local runs: Cognito mode for the local
 * pool and client, keys fetched from the local issuer over HTTPS (JWKS_URI), the example access
 * rules, tracing off (no X-Ray daemon). Every name here is one that loadConfig or Powertools reads.
 */
export function localAuthorizerEnv(jwksUri: string, accessRulesFile: string, caFile: string): Record<string, string> {
  return {
    USER_POOL_ID: LOCAL_USER_POOL_ID,
    CLIENT_ID: LOCAL_CLIENT_ID,
    JWKS_URI: jwksUri,
    ACCESS_RULES_FILE: accessRulesFile,
    NODE_EXTRA_CA_CERTS: caFile,
    POWERTOOLS_SERVICE_NAME: "jwt-authorizer",
    POWERTOOLS_TRACE_ENABLED: "false",
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_LAMBDA_FUNCTION_NAME: "jwt-authorizer-local",
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
    // Lambda sets this; without it Powertools never reports a cold start (no ColdStart metric, cold_start=false).
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    TZ: "UTC",
  };
}

/**
 * Starts the no-Docker local stack: the local issuer, the built handler (dist/index.js) behind an
 * RIE-compatible invoke URL, and the API-Gateway-like gateway with its echo backend. Everything binds
 * to 127.0.0.1 and stops with close().
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const host = opts.host ?? "127.0.0.1";
  const paths = projectPaths();
  if (!existsSync(paths.bundle)) {
    throw new Error(`${paths.bundle} is missing: run \`npm run build\` first (the local stack runs the built bundle)`);
  }
  const state = await loadOrCreateState(opts.stateDir ?? defaultStateDir());
  const issuer = await startIssuer({ state, host, port: opts.issuerPort ?? 0 });
  const closers: (() => Promise<void>)[] = [() => issuer.close()];
  const closeAll = async () => {
    for (const close of closers.reverse().splice(0)) await close();
  };
  try {
    const env = { ...localAuthorizerEnv(issuer.jwksUri, paths.accessRules, state.caFile), ...opts.authorizerEnv };
    const invoke = await startInvokeServer({
      runtimeScript: paths.runtimeScript,
      taskRoot: paths.taskRoot,
      env,
      host,
      port: opts.invokePort ?? 0,
      logs: opts.authorizerLogs ?? "ignore",
      ...(opts.onAuthorizerLog ? { onLog: opts.onAuthorizerLog } : {}),
      reportLines: opts.reportLines ?? false,
    });
    closers.push(() => invoke.close());
    const gateway = await startGateway({ invokeUrl: invoke.url, host, port: opts.gatewayPort ?? 0, cacheTtlSeconds: opts.cacheTtlSeconds ?? 300 });
    closers.push(() => gateway.close());
    let closing: Promise<void> | undefined;
    return {
      issuerUrl: issuer.url,
      invokeUrl: invoke.url,
      gatewayUrl: gateway.url,
      caFile: state.caFile,
      mintToken: (mint) => issuer.mint(mint),
      authorizerInvocations: () => invoke.invocations(),
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export { INVOKE_PATH, JWKS_PATH };
