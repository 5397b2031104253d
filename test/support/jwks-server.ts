import { writeFileSync, mkdtempSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificates } from "../../src/local/state";
import { track } from "./cleanup";

/** A CA and a 127.0.0.1/localhost server certificate it signed, generated per test run (with the local issuer's generator). */
export interface TestTls {
  readonly caCert: string;
  readonly caFile: string;
  readonly key: string;
  readonly cert: string;
}

export async function generateTls(): Promise<TestTls> {
  const certs = await createCertificates({ caName: "authorizer test CA", names: ["localhost"], ips: ["127.0.0.1"], caValidDays: 2, serverValidDays: 2 });
  const caFile = join(mkdtempSync(join(tmpdir(), "authz-ca-")), "ca.pem");
  writeFileSync(caFile, certs.caCert);
  return { caCert: certs.caCert, caFile, key: certs.serverKey, cert: certs.serverCert };
}

/** How the server answers key-set requests; tests switch it to simulate outages. */
export type JwksMode =
  | { kind: "ok" }
  | { kind: "status"; status: number }
  | { kind: "body"; body: string | Buffer; contentType?: string }
  | { kind: "hang" }
  | { kind: "slow"; delayMs: number }
  /** Answers with `body` once `open` resolves (so a test can measure before the body arrives). */
  | { kind: "gate"; open: Promise<unknown>; body: string | Buffer; headers?: Record<string, string> };

export interface JwksServer {
  readonly url: string;
  readonly jwksUri: string;
  readonly tls: TestTls;
  /** Number of key-set requests served (or attempted) so far. */
  requests: number;
  keys: Record<string, unknown>[];
  mode: JwksMode;
  close(): Promise<void>;
}

/** A real HTTPS JWKS server on 127.0.0.1 (random port) serving the keys it is given. */
export async function startJwksServer(keys: Record<string, unknown>[], tls?: TestTls): Promise<JwksServer> {
  const material = tls ?? (await generateTls());
  const hanging = new Set<ServerResponse>();
  const state = { requests: 0, keys, mode: { kind: "ok" } as JwksMode };
  const server: Server = createServer({ key: material.key, cert: material.cert }, (req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    state.requests += 1;
    const mode = state.mode;
    const sendKeys = () => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: state.keys }));
    };
    switch (mode.kind) {
      case "ok":
        return sendKeys();
      case "status":
        return void res.writeHead(mode.status).end("error");
      case "body":
        return void res.writeHead(200, { "content-type": mode.contentType ?? "application/json" }).end(mode.body);
      case "hang":
        hanging.add(res);
        return;
      case "slow":
        setTimeout(sendKeys, mode.delayMs).unref();
        return;
      case "gate":
        hanging.add(res);
        res.on("error", () => undefined); // the client may hang up mid-body (a size limit)
        void mode.open.then(() => {
          if (!res.destroyed) res.writeHead(200, { "content-type": "application/json", ...mode.headers }).end(mode.body);
        });
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  return track(Object.assign(state, {
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    tls: material,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }));
}
