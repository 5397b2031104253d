import { request } from "node:https";
import { closeLeftovers, openResources, track } from "./cleanup";
import { startJwksServer } from "./jwks-server";

it("closes what is still open, once each, and forgets what its test closed", async () => {
  const closed: string[] = [];
  const a = track({ close: async () => void closed.push("a") });
  const b = track({ close: async () => void closed.push("b") });
  const before = openResources();
  await a.close();
  await a.close();
  expect(openResources()).toBe(before - 1);
  await closeLeftovers();
  await b.close();
  expect(closed).toEqual(["a", "b"]);
  expect(openResources()).toBe(0);
});

it("closes a JWKS server a failing test never closed, so jest can exit", async () => {
  const server = await startJwksServer([]);
  expect(openResources()).toBe(1);
  await closeLeftovers();
  expect(openResources()).toBe(0);
  const refused = await new Promise<string>((resolve) => {
    const req = request(server.jwksUri, { ca: server.tls.caCert }, () => resolve("answered"));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    req.end();
  });
  expect(refused).toBe("ECONNREFUSED");
  await server.close(); // idempotent: the test's own close after the cleanup's
});
