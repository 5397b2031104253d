import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { closeServer, listen, origin, readBody, sendJson } from "./http-util";
import type { LocalState } from "./state";
import { LOCAL_CLIENT_ID, LOCAL_ISSUER, type MintOptions, mintToken, parseMintOptions } from "./tokens";

export const JWKS_PATH = "/.well-known/jwks.json";
export const OPENID_CONFIGURATION_PATH = "/.well-known/openid-configuration";
export const TOKEN_PATH = "/token";

export interface IssuerOptions {
  readonly state: LocalState;
  readonly host?: string;
  readonly port?: number;
}

export interface LocalIssuer {
  /** `https://host:port` as bound. */
  readonly url: string;
  readonly jwksUri: string;
  /** Key-set requests served so far. */
  jwksRequests(): number;
  mint(opts?: MintOptions): string;
  close(): Promise<void>;
}

const truthy = (v: string | null | undefined): boolean => v !== null && v !== undefined && /^(1|true|yes)$/i.test(v);

/**
 * Token request parameters, from the query string and/or a form or JSON body:
 * scope (space- or comma-separated, repeatable), group (repeatable), expired=1, expires_in,
 * sub, client_id, token_use=access|id.
 */
export function mintOptionsFrom(params: URLSearchParams): MintOptions {
  const text = (name: string) => params.get(name) ?? undefined;
  return parseMintOptions(
    {
      ...(params.has("scope") ? { scope: params.getAll("scope") } : {}),
      ...(params.has("group") ? { group: params.getAll("group") } : {}),
      expired: truthy(params.get("expired")),
      expiresIn: text("expires_in"),
      sub: text("sub"),
      clientId: text("client_id"),
      tokenUse: text("token_use"),
    },
    HTTP_NAMES,
  );
}

const HTTP_NAMES = { scope: "scope", group: "group", expired: "expired", expiresIn: "expires_in", sub: "sub", clientId: "client_id", tokenUse: "token_use", claim: "claim" } as const;

async function tokenParams(req: IncomingMessage, url: URL): Promise<URLSearchParams> {
  const params = new URLSearchParams(url.searchParams);
  if (req.method !== "POST") return params;
  const body = (await readBody(req, 64 * 1024)).trim();
  if (body === "") return params;
  const fromBody = body.startsWith("{")
    ? Object.entries(JSON.parse(body) as Record<string, unknown>).flatMap(([k, v]) =>
        (Array.isArray(v) ? v : [v]).map((item) => [k, String(item)] as [string, string]),
      )
    : [...new URLSearchParams(body)];
  for (const [k, v] of fromBody) params.append(k, v);
  return params;
}

/**
 * The local development issuer: HTTPS (certificate from the local CA) serving the key set, an
 * OpenID discovery document, and a token endpoint. Development only; the authorizer never enables it.
 */
export async function startIssuer(options: IssuerOptions): Promise<LocalIssuer> {
  const { state } = options;
  const jwks = JSON.stringify({ keys: [state.signingKey.jwk] });
  let jwksRequests = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "https://localhost");
    const base = `https://${req.headers.host ?? "localhost"}`;
    if (url.pathname === JWKS_PATH && (req.method === "GET" || req.method === "HEAD")) {
      jwksRequests += 1;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
      res.end(req.method === "HEAD" ? undefined : jwks);
      return;
    }
    if (url.pathname === OPENID_CONFIGURATION_PATH && req.method === "GET") {
      sendJson(res, 200, {
        issuer: LOCAL_ISSUER,
        jwks_uri: `${base}${JWKS_PATH}`,
        token_endpoint: `${base}${TOKEN_PATH}`,
        response_types_supported: ["token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["none"],
        scopes_supported: ["pets/read", "pets/write"],
        claims_supported: ["sub", "iss", "client_id", "token_use", "scope", "cognito:groups", "username", "exp", "iat", "jti"],
      });
      return;
    }
    if (url.pathname === TOKEN_PATH && (req.method === "GET" || req.method === "POST")) {
      let opts: MintOptions;
      try {
        opts = mintOptionsFrom(await tokenParams(req, url));
      } catch (err) {
        sendJson(res, 400, { error: "invalid_request", error_description: (err as Error).message });
        return;
      }
      const token = mintToken(state.signingKey, opts);
      const expiresIn = opts.expired ? 0 : (opts.expiresInSeconds ?? 3600);
      sendJson(
        res,
        200,
        opts.tokenUse === "id"
          ? { id_token: token, token_type: "Bearer", expires_in: expiresIn }
          : { access_token: token, token_type: "Bearer", expires_in: expiresIn, client_id: opts.clientId ?? LOCAL_CLIENT_ID },
        { "cache-control": "no-store" },
      );
      return;
    }
    sendJson(res, 404, { error: "not_found", paths: [JWKS_PATH, OPENID_CONFIGURATION_PATH, TOKEN_PATH] });
  };

  const server: Server = createServer({ key: state.tls.key, cert: state.tls.cert }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: err.message });
      else res.destroy();
    });
  });
  const host = options.host ?? "127.0.0.1";
  const port = await listen(server, host, options.port ?? 0);
  const url = origin("https", host, port);
  return {
    url,
    jwksUri: `${url}${JWKS_PATH}`,
    jwksRequests: () => jwksRequests,
    mint: (opts) => mintToken(state.signingKey, opts),
    close: () => closeServer(server),
  };
}
