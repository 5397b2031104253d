/**
 * The Docker side cannot run here (no Docker engine), so it is held by checks that can fail:
 * the Dockerfile passes a Dockerfile linter; the final stage is lean; the image layout, laid out the
 * same way from the build output, resolves the CMD handler string to an exported function AND answers
 * with the compose environment; docker-compose.yml validates against the Compose Specification's
 * JSON schema; and compose's ports, env and issuer URL agree with the authorizer's config and the
 * local issuer.
 */
import Ajv from "ajv";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { validate, ValidationSeverity } from "dockerfile-utils";
import { parse as parseYaml } from "yaml";
import { CONFIG_VARIABLES, loadConfig } from "../../src/config";
import { JWKS_PATH, startIssuer } from "../../src/local/issuer";
import { startInvokeServer } from "../../src/local/invoke-server";
import { projectPaths } from "../../src/local/project";
import { DEFAULT_PORTS, localAuthorizerEnv } from "../../src/local/stack";
import { defaultStateDir, loadOrCreateState, SERVER_NAMES } from "../../src/local/state";
import { LOCAL_CLIENT_ID, LOCAL_USER_POOL_ID, mintToken } from "../../src/local/tokens";
import { eventFor } from "../support/events";
import { copyTarget, execForm, expand, parseCopy, parseDockerfile, type Stage } from "./dockerfile";
import { http } from "./http";

const ROOT = join(__dirname, "..", "..");
const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const COMPOSE_TEXT = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
const COMPOSE_SCHEMA_PATH = process.env.COMPOSE_SCHEMA_PATH ?? join(ROOT, "..", "shared", "schemas", "compose-spec.json");

/** What the Lambda base images set (FACTS.md: LAMBDA_TASK_ROOT=/var/task, also the WORKDIR). */
const LAMBDA_BASE = /^public\.ecr\.aws\/lambda\/nodejs:(\d+)$/;
const LAMBDA_BASE_ENV = { LAMBDA_TASK_ROOT: "/var/task" };
const LAMBDA_BASE_WORKDIR = "/var/task";

const stages = parseDockerfile(DOCKERFILE);
const finalStage = stages[stages.length - 1];
const stageNamed = (name: string): Stage => {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage named ${name}`);
  return stage;
};

/** ENV and WORKDIR of a stage, starting from what its base sets. */
function stageEnv(stage: Stage): { env: Record<string, string>; workdir: string } {
  const base = LAMBDA_BASE.test(stage.from);
  const env: Record<string, string> = base ? { ...LAMBDA_BASE_ENV } : {};
  let workdir = base ? LAMBDA_BASE_WORKDIR : "/";
  for (const ins of stage.instructions) {
    if (ins.keyword === "ENV") {
      const m = /^(\w+)[=\s]+(.*)$/.exec(ins.args);
      if (m) env[m[1]] = expand(m[2].replace(/^"|"$/g, ""), env);
    }
    if (ins.keyword === "WORKDIR") workdir = posix.resolve(workdir, expand(ins.args, env));
  }
  return { env, workdir };
}

type Compose = {
  services: Record<string, {
    build?: { context?: string; target?: string };
    ports?: string[];
    environment?: Record<string, string>;
    volumes?: (string | LongVolume)[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
  }>;
};
const compose = parseYaml(COMPOSE_TEXT) as Compose;
const authorizer = compose.services.authorizer;
const issuerService = compose.services.issuer;

/** "127.0.0.1:9000:8080" → { host: 9000, container: 8080 } */
function port(mapping: string): { host: number; container: number } {
  const parts = mapping.split(":");
  return { host: Number(parts[parts.length - 2]), container: Number(parts[parts.length - 1]) };
}
type LongVolume = { type: string; source: string; target: string; read_only?: boolean; bind?: { create_host_path?: boolean } };
/** "./.local/ca:/opt/local-ca:ro" or its long form → { source, target } */
function volume(spec: string | LongVolume): { source: string; target: string } {
  if (typeof spec !== "string") return { source: posix.normalize(spec.source), target: spec.target };
  const [source, target] = spec.split(":");
  return { source: posix.normalize(source), target };
}

describe("Dockerfile", () => {
  it("passes the dockerfile-utils linter with no errors, with every optional check raised to error", () => {
    const strict = {
      deprecatedMaintainer: ValidationSeverity.ERROR,
      directiveCasing: ValidationSeverity.ERROR,
      emptyContinuationLine: ValidationSeverity.ERROR,
      instructionCasing: ValidationSeverity.ERROR,
      instructionCmdMultiple: ValidationSeverity.ERROR,
      instructionEntrypointMultiple: ValidationSeverity.ERROR,
      instructionHealthcheckMultiple: ValidationSeverity.ERROR,
      instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
      instructionWorkdirRelative: ValidationSeverity.ERROR,
    };
    expect(validate(DOCKERFILE, strict).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    // The linter does find errors when there are some.
    const broken = "FROM node:22 AS build\nCMD ['index.handler']\nWORKDIR app\ncopy a b\nCMD [\"x\"]\nCMD [\"y\"]\n";
    expect(validate(broken, strict).filter((d) => d.severity === 1).length).toBeGreaterThanOrEqual(3);
  });

  it("builds with npm ci and npm run build, and ships a final stage on the Node 22 Lambda base with no install step", () => {
    const build = stageNamed("build");
    const runs = build.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    expect(runs).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b/), "npm run build"]));
    expect(finalStage.from).toBe("public.ecr.aws/lambda/nodejs:22");
    expect(finalStage.instructions.filter((i) => ["RUN", "ADD", "ENTRYPOINT", "USER"].includes(i.keyword))).toEqual([]);
    const cmd = finalStage.instructions.filter((i) => i.keyword === "CMD");
    expect(cmd).toHaveLength(1);
    expect(execForm(cmd[0].args)).toEqual(["index.handler"]);
  });

  it("copies only the bundle, the Tracer file it loads where tracing is on, their source maps and the access rules into the task root", () => {
    const { env, workdir } = stageEnv(finalStage);
    const copies = finalStage.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args, env));
    const landed = copies.flatMap((c) => c.sources.map((s) => copyTarget(c, s, workdir)));
    expect(landed.sort()).toEqual([
      "/var/task/access-rules.json",
      "/var/task/index.js",
      "/var/task/index.js.map",
      "/var/task/tracer.js",
      "/var/task/tracer.js.map",
    ]);
    for (const c of copies) {
      for (const s of c.sources) expect(s).not.toMatch(/node_modules|src\/|test|\.ts$/);
    }
  });

  it(".dockerignore keeps node_modules, .git, tests and local state out, but not what the build copies", () => {
    const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", ".git", "test", ".local", "dist"]));
    const contextSources = stages.flatMap((stage) =>
      stage.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args, stageEnv(stage).env)).filter((c) => !c.from).flatMap((c) => c.sources),
    );
    expect(contextSources.length).toBeGreaterThan(0);
    for (const source of contextSources) {
      const top = posix.normalize(source).split("/")[0];
      expect(ignored).not.toContain(top);
      expect(existsSync(join(ROOT, source))).toBe(true);
    }
  });
});

describe("image layout parity: the Dockerfile's COPY lines applied to the build output", () => {
  let layout: string;
  let taskRoot: string;
  let handlerString: string;

  beforeAll(() => {
    layout = mkdtempSync(join(tmpdir(), "authz-image-"));
    const build = stageNamed("build");
    const buildWorkdir = stageEnv(build).workdir;
    // The build stage's WORKDIR is the repository root copied in; `npm run build` writes dist/ there.
    const { env, workdir } = stageEnv(finalStage);
    for (const ins of finalStage.instructions.filter((i) => i.keyword === "COPY")) {
      const copy = parseCopy(ins.args, env);
      for (const source of copy.sources) {
        let local: string;
        if (copy.from) {
          expect(copy.from).toBe("build");
          expect(source.startsWith(`${buildWorkdir}/`)).toBe(true);
          local = join(ROOT, posix.relative(buildWorkdir, source));
        } else {
          local = join(ROOT, source);
        }
        const target = join(layout, copyTarget(copy, source, workdir));
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(local, target);
      }
    }
    taskRoot = join(layout, env.LAMBDA_TASK_ROOT);
    handlerString = execForm(finalStage.instructions.find((i) => i.keyword === "CMD")!.args)[0];
  });
  afterAll(() => rmSync(layout, { recursive: true, force: true }));

  it("carries every file the build writes to dist/ (a file the bundle can load is never left out)", () => {
    const built = readdirSync(join(ROOT, "dist")).sort();
    expect(built.length).toBeGreaterThan(0);
    expect(readdirSync(taskRoot).filter((f) => built.includes(f)).sort()).toEqual(built);
  });

  it("resolves the CMD handler string to an exported function and answers with the compose environment", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "authz-image-state-"));
    const state = await loadOrCreateState(stateDir);
    const issuer = await startIssuer({ state });
    // Compose's environment, with the two container-only addresses mapped to this host:
    // the issuer service's URL and the CA mounted from ./.local/ca.
    const env: Record<string, string> = { ...authorizer.environment! };
    env.JWKS_URI = issuer.jwksUri;
    env.NODE_EXTRA_CA_CERTS = state.caFile;
    const server = await startInvokeServer({ runtimeScript: projectPaths().runtimeScript, taskRoot, handler: handlerString, env });
    try {
      const jwt = mintToken(state.signingKey, { scopes: ["pets/read"] });
      const allowed = await http(server.url, { method: "POST", body: JSON.stringify(eventFor("token", jwt)) });
      expect(allowed.json()).toMatchObject({ policyDocument: { Statement: [expect.objectContaining({ Effect: "Allow" })] } });
      // The rules file the image carries is the one loaded: pets/read may not reach /admin.
      const denied = await http(server.url, { method: "POST", body: JSON.stringify(eventFor("token", jwt, "GET /admin/users")) });
      expect(denied.json<{ policyDocument: { Statement: { Effect: string }[] } }>().policyDocument.Statement.map((s) => s.Effect)).toEqual(["Allow", "Deny"]);
      expect(issuer.jwksRequests()).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
      await issuer.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("fails to start when the handler string names nothing exported (the check can fail)", async () => {
    const server = startInvokeServer({ runtimeScript: projectPaths().runtimeScript, taskRoot, handler: "index.nothing", env: {} });
    const s = await server;
    try {
      const res = await http(s.url, { method: "POST", body: "{}" });
      expect(res.json()).toMatchObject({ errorType: "Runtime.HandlerNotFound" });
    } finally {
      await s.close();
    }
  });
});

describe("docker-compose.yml", () => {
  const schemaPresent = existsSync(COMPOSE_SCHEMA_PATH);
  if (!schemaPresent) {
    console.warn(`SKIPPED the Compose schema check: no schema at ${COMPOSE_SCHEMA_PATH} (set COMPOSE_SCHEMA_PATH to compose-spec.json)`);
  }
  (schemaPresent ? it : it.skip)(`validates against the Compose Specification schema (${COMPOSE_SCHEMA_PATH})`, () => {
    const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA_PATH, "utf8")) as Record<string, unknown>;
    delete schema.$schema; // lacks the trailing '#'; see ../shared/schemas/README.md
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const check = ajv.compile(schema);
    expect(check(compose) ? [] : check.errors).toEqual([]);
    // The schema does reject a broken file.
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.authorizer.ports = "9000:8080";
    broken.services.authorizer.depends_on = { issuer: { condition: "when_ready" } };
    expect(check(broken)).toBe(false);
  });

  it("builds the authorizer from the Dockerfile's final stage and the issuer from its issuer stage", () => {
    expect(authorizer.build?.context).toBe(".");
    expect(authorizer.build?.target).toBeUndefined();
    expect(stages.map((s) => s.name)).toContain(issuerService.build?.target);
    expect(authorizer.depends_on).toEqual({ issuer: { condition: "service_healthy" } });
  });

  it("publishes the RIE on the same port as `npm start`'s invoke server, and the issuer on its port", () => {
    expect(authorizer.ports?.map(port)).toEqual([{ host: DEFAULT_PORTS.invoke, container: 8080 }]);
    const issuerCmd = execForm(stageNamed(issuerService.build!.target!).instructions.find((i) => i.keyword === "CMD")!.args);
    const cmdPort = Number(issuerCmd[issuerCmd.indexOf("--port") + 1]);
    expect(issuerService.ports?.map(port)).toEqual([{ host: DEFAULT_PORTS.issuer, container: cmdPort }]);
    for (const mapping of [...(authorizer.ports ?? []), ...(issuerService.ports ?? [])]) expect(mapping.startsWith("127.0.0.1:")).toBe(true);
  });

  it("gives the authorizer an environment loadConfig accepts: the local pool, the issuer service's JWKS, the image's rules", () => {
    const env = authorizer.environment!;
    const known = new Set<string>([...CONFIG_VARIABLES, "NODE_EXTRA_CA_CERTS", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE", "POWERTOOLS_TRACE_ENABLED", "POWERTOOLS_DEV", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_LOG_LEVEL"]);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    expect(env.POWERTOOLS_TRACE_ENABLED).toBe("false");

    const files: string[] = [];
    const config = loadConfig(env, { baseDir: "/var/task", readFile: (p) => (files.push(p), readFileSync(join(ROOT, "access-rules.example.json"), "utf8")) });
    expect(files).toEqual(["/var/task/access-rules.json"]);
    expect(config.accessRules?.rules.length).toBeGreaterThan(0);
    expect(config.issuers).toEqual([
      { kind: "cognito", userPoolId: LOCAL_USER_POOL_ID, clientIds: [LOCAL_CLIENT_ID], tokenUse: "access", jwksUri: env.JWKS_URI },
    ]);
    // The JWKS URL names the issuer service, on its container port, at the path the issuer serves,
    // and the server certificate carries that name.
    const jwks = new URL(env.JWKS_URI);
    expect(Object.keys(compose.services)).toContain(jwks.hostname);
    expect(SERVER_NAMES).toContain(jwks.hostname);
    expect(Number(jwks.port)).toBe(port(issuerService.ports![0]).container);
    expect(jwks.pathname).toBe(JWKS_PATH);

    // Same pool, client and tracing switch as the no-Docker default, so the same tokens work in both.
    const local = localAuthorizerEnv("https://127.0.0.1:1/x", "rules.json", "ca.pem");
    for (const name of ["USER_POOL_ID", "CLIENT_ID", "POWERTOOLS_TRACE_ENABLED", "POWERTOOLS_SERVICE_NAME", "AWS_REGION", "AWS_LAMBDA_INITIALIZATION_TYPE"]) {
      expect([name, env[name]]).toEqual([name, local[name]]);
    }
  });

  it("shares the host's issuer state: the issuer works in ./.local and the authorizer trusts ./.local/ca/ca.pem", () => {
    const { workdir } = stageEnv(stageNamed("build"));
    const hostState = relative(ROOT, defaultStateDir(ROOT));
    const issuerVolumes = (issuerService.volumes ?? []).map(volume);
    expect(issuerVolumes).toContainEqual({ source: hostState, target: defaultStateDir(workdir) });

    const caHostDir = posix.join(hostState, "ca");
    const caMount = (authorizer.volumes ?? []).map(volume).find((v) => v.source === caHostDir);
    expect(caMount).toBeDefined();
    expect(authorizer.environment!.NODE_EXTRA_CA_CERTS).toBe(`${caMount!.target}/ca.pem`);
    // The mount is read-only, and the authorizer gets the CA certificate only, never the issuer's keys.
    expect(authorizer.volumes).toEqual([
      { type: "bind", source: `./${caHostDir}`, target: caMount!.target, read_only: true, bind: { create_host_path: false } },
    ]);
    // The issuer gets the host's state read-only, and compose never creates it (a root-owned empty
    // folder): `npm run -s token` on the host does, and the issuer only serves it (--existing-state).
    expect(issuerService.volumes).toEqual([
      { type: "bind", source: `./${hostState}`, target: defaultStateDir(workdir), read_only: true, bind: { create_host_path: false } },
    ]);
    const issuerCmd = execForm(stageNamed(issuerService.build!.target!).instructions.find((i) => i.keyword === "CMD")!.args);
    expect(issuerCmd).toContain("--existing-state");
    expect(issuerService.healthcheck?.test.join(" ")).toContain(posix.join(defaultStateDir(workdir), "ca", "ca.pem"));
  });
});
