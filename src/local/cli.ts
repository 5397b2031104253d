/* Command line of the local tools; run through src/local/run.mjs (see package.json scripts). */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startIssuer } from "./issuer";
import { EVENT_FILES, projectRoot, TOKEN_PLACEHOLDER } from "./project";
import { DEFAULT_PORTS, startLocalStack } from "./stack";
import { dpopProofFor, localClientCertificate, newDpopKey } from "./sender";
import { defaultStateDir, loadExistingState, loadOrCreateState } from "./state";
import { DEFAULT_SUB, LOCAL_CLIENT_ID, LOCAL_ISSUER, LOCAL_USER_POOL_ID, type MintOptions, mintToken, parseMintOptions } from "./tokens";

const TOKEN_OPTIONS = {
  scope: { type: "string", multiple: true },
  group: { type: "string", multiple: true },
  expired: { type: "boolean" },
  "expires-in": { type: "string" },
  sub: { type: "string" },
  "client-id": { type: "string" },
  "token-use": { type: "string" },
  claim: { type: "string", multiple: true },
  "state-dir": { type: "string" },
} as const;

/** Only `npm run token` takes these (sender-constrained tokens). */
const SENDER_OPTIONS = {
  dpop: { type: "string" },
  method: { type: "string" },
  cert: { type: "boolean" },
} as const;

type TokenValues = { [K in keyof typeof TOKEN_OPTIONS]?: (typeof TOKEN_OPTIONS)[K] extends { multiple: true } ? string[] : (typeof TOKEN_OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

const USAGE = `Usage (from the repository root):
  npm start [-- --gateway-port 3000 --invoke-port 9000 --issuer-port 9443 --ttl 300 --quiet]
      issuer + built handler behind the RIE invoke URL + API-Gateway-like gateway
      --bound-tokens: BOUND_TOKENS=accept, DPoP proofs for https://localhost:PORT/…, no caching (--ttl 0)
  npm run -s token [-- TOKEN OPTIONS]      print a token of the local issuer (only the token)
  npm run -s token -- --dpop URL [--method GET] [TOKEN OPTIONS]
      a token bound to a fresh DPoP key (cnf.jkt) on line 1, a proof for METHOD URL on line 2
  npm run -s token -- --cert [TOKEN OPTIONS]
      a token bound to the client certificate .local/client-cert.pem (cnf x5t#S256; created on first use)
  npm run -s events [-- [--out DIR | --print token|request|http-api] [TOKEN OPTIONS]]
      fill events/*.json with a fresh token into .local/events/ (or print one to stdout)
  node src/local/run.mjs issuer [--host 0.0.0.0 --port 9443 --existing-state]
      the issuer alone (docker compose: --existing-state uses .local/ as it is, never writes it)

TOKEN OPTIONS
  --scope S         a scope (repeatable, or space/comma separated); default pets/read
  --group G         a cognito:groups entry (repeatable)
  --expired         a token that expired an hour ago
  --expires-in N    lifetime in seconds (default 3600)
  --sub ID          subject (default ${DEFAULT_SUB})
  --client-id ID    client_id (aud for id tokens); default ${LOCAL_CLIENT_ID}
  --token-use U     access (default) or id
  --claim k=v       any other claim; v is parsed as JSON when it can be (repeatable)
  --state-dir DIR   issuer state folder (default .local/)
`;

const CLI_NAMES = { scope: "--scope", group: "--group", expired: "--expired", expiresIn: "--expires-in", sub: "--sub", clientId: "--client-id", tokenUse: "--token-use", claim: "--claim" } as const;

function mintOptions(values: TokenValues): MintOptions {
  return parseMintOptions(
    {
      scope: values.scope,
      group: values.group,
      expired: values.expired,
      expiresIn: values["expires-in"],
      sub: values.sub,
      clientId: values["client-id"],
      tokenUse: values["token-use"],
      claim: values.claim,
    },
    CLI_NAMES,
  );
}

const stateDirOf = (values: { "state-dir"?: string }) => (values["state-dir"] ? resolve(values["state-dir"]) : defaultStateDir());

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...TOKEN_OPTIONS, ...SENDER_OPTIONS }, strict: true });
  if (values.method !== undefined && values.dpop === undefined) throw new Error("--method goes with --dpop URL");
  if (values.dpop !== undefined && !/^https?:\/\//.test(values.dpop)) throw new Error(`--dpop must be the request's absolute URL, got "${values.dpop}"`);
  const state = await loadOrCreateState(stateDirOf(values));
  const opts = mintOptions(values);
  const cnf: Record<string, string> = {};
  const key = values.dpop === undefined ? undefined : newDpopKey();
  if (key) cnf.jkt = key.jkt;
  if (values.cert) {
    const certificate = await localClientCertificate(state.dir);
    cnf["x5t#S256"] = certificate.x5t;
    process.stderr.write(`bound to the client certificate ${relative(process.cwd(), certificate.pemFile) || certificate.pemFile}\n`);
  }
  if (Object.keys(cnf).length > 0) opts.claims = { ...opts.claims, cnf };
  const jwt = mintToken(state.signingKey, opts);
  process.stdout.write(`${jwt}\n`);
  if (key && values.dpop !== undefined) {
    process.stdout.write(`${dpopProofFor(key, { method: (values.method ?? "GET").toUpperCase(), url: values.dpop, accessToken: jwt })}\n`);
  }
  return 0;
}


async function events(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...TOKEN_OPTIONS, out: { type: "string" }, print: { type: "string" } },
    strict: true,
  });
  const state = await loadOrCreateState(stateDirOf(values));
  const jwt = mintToken(state.signingKey, mintOptions(values));
  const root = projectRoot();
  const fill = (name: keyof typeof EVENT_FILES) =>
    readFileSync(join(root, "events", EVENT_FILES[name]), "utf8").split(TOKEN_PLACEHOLDER).join(jwt);
  if (values.print !== undefined) {
    if (!(values.print in EVENT_FILES)) throw new Error(`--print must be one of ${Object.keys(EVENT_FILES).join(", ")}`);
    process.stdout.write(fill(values.print as keyof typeof EVENT_FILES));
    return 0;
  }
  const out = resolve(values.out ?? join(state.dir, "events"));
  mkdirSync(out, { recursive: true });
  for (const name of Object.keys(EVENT_FILES) as (keyof typeof EVENT_FILES)[]) {
    const file = join(out, EVENT_FILES[name]);
    writeFileSync(file, fill(name));
    process.stdout.write(`${relative(process.cwd(), file) || file}\n`);
  }
  return 0;
}

const portOf = (raw: string | undefined, fallback: number, name: string): number => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new Error(`--${name} must be a port number, got "${raw}"`);
  return Number(raw);
};

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => resolve(signal);
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string" },
      "gateway-port": { type: "string" },
      "invoke-port": { type: "string" },
      "issuer-port": { type: "string" },
      ttl: { type: "string" },
      quiet: { type: "boolean" },
      "bound-tokens": { type: "boolean" },
      "state-dir": { type: "string" },
    },
    strict: true,
  });
  const bound = values["bound-tokens"] === true;
  const ttl = values.ttl === undefined ? (bound ? 0 : 300) : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw new Error(`--ttl must be 0..3600 seconds, got "${values.ttl}"`);
  if (bound && ttl !== 0) throw new Error("--bound-tokens needs --ttl 0: a cached answer would skip the certificate and DPoP checks");
  const gatewayPortOption = portOf(values["gateway-port"], DEFAULT_PORTS.gateway, "gateway-port");
  if (bound && gatewayPortOption === 0) throw new Error("--bound-tokens needs a fixed --gateway-port (the DPoP base URL names it)");
  // The local gateway speaks plain HTTP, and DPOP_PUBLIC_BASE_URL takes https:// only: proofs name https://localhost:PORT/…
  const boundEnv: Record<string, string> = bound ? { BOUND_TOKENS: "accept", DPOP_PUBLIC_BASE_URL: `https://localhost:${gatewayPortOption}` } : {};
  const stack = await startLocalStack({
    host: values.host ?? "127.0.0.1",
    issuerPort: portOf(values["issuer-port"], DEFAULT_PORTS.issuer, "issuer-port"),
    invokePort: portOf(values["invoke-port"], DEFAULT_PORTS.invoke, "invoke-port"),
    gatewayPort: gatewayPortOption,
    cacheTtlSeconds: ttl,
    stateDir: stateDirOf(values),
    authorizerLogs: values.quiet ? "ignore" : "inherit",
    reportLines: !values.quiet,
    authorizerEnv: { ...(values.quiet ? {} : { POWERTOOLS_DEV: "true", POWERTOOLS_METRICS_DISABLED: "false" }), ...boundEnv },
  });
  const gatewayPort = new URL(stack.gatewayUrl).port;
  const cwdRelative = (p: string) => relative(process.cwd(), p) || p;
  process.stdout.write(
    [
      "",
      "Local stack is up (Ctrl-C stops it):",
      `  issuer      ${stack.issuerUrl}/.well-known/jwks.json   (CA: ${cwdRelative(stack.caFile)})`,
      `  authorizer  ${stack.invokeUrl}`,
      `              Cognito pool ${LOCAL_USER_POOL_ID}, client ${LOCAL_CLIENT_ID}, iss ${LOCAL_ISSUER}`,
      `  gateway     ${stack.gatewayUrl}   (REST API, REQUEST authorizer; cache key Authorization + method + path, TTL ${ttl} s)`,
      "",
      "Try:",
      `  curl -i -H "Authorization: Bearer $(npm run -s token)" http://localhost:${gatewayPort}/pets`,
      "",
    ].join("\n") + "\n",
  );
  const signal = await untilSignal();
  process.stdout.write(`\n${signal}: stopping…\n`);
  await stack.close();
  return 0;
}

async function issuer(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { host: { type: "string" }, port: { type: "string" }, "state-dir": { type: "string" }, "existing-state": { type: "boolean" } },
    strict: true,
  });
  // --existing-state (the compose issuer): use the host's state as it is, never create or rewrite it.
  const state = values["existing-state"] ? loadExistingState(stateDirOf(values)) : await loadOrCreateState(stateDirOf(values));
  const server = await startIssuer({ state, host: values.host ?? "127.0.0.1", port: portOf(values.port, DEFAULT_PORTS.issuer, "port") });
  process.stdout.write(`local issuer on ${server.url} (iss ${LOCAL_ISSUER}); CA ${state.caFile}\n`);
  await untilSignal();
  await server.close();
  return 0;
}

/** Entry point: returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "start":
        return await start(args);
      case "token":
        return await token(args);
      case "events":
        return await events(args);
      case "issuer":
        return await issuer(args);
      default:
        process.stderr.write(USAGE);
        return command === undefined || command === "help" || command === "--help" ? 0 : 2;
    }
  } catch (err) {
    const hint =
      (err as NodeJS.ErrnoException).code === "EADDRINUSE"
        ? "A port is taken: is another `npm start` or `docker compose up` running? Choose others with --gateway-port, --invoke-port, --issuer-port.\n"
        : "";
    process.stderr.write(`${(err as Error).message}\n${hint}\n${command === "start" || command === "issuer" || hint ? "" : USAGE}`);
    return 1;
  }
}
