/** Small HTTP pieces of the local tools: bounded bodies, JSON answers, binding, closing, origins. */
import { createServer, request } from "node:http";
import { closeServer, listen, origin, readBody, sendJson } from "../../src/local/http-util";

function post(port: number, body: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("readBody, sendJson, listen and closeServer", () => {
  it("answers JSON with its length, refuses a body over the limit, binds a free port and closes with open connections", async () => {
    const server = createServer((req, res) => {
      readBody(req, 10).then(
        (body) => sendJson(res, 200, { echoed: body }, { "x-extra": "1" }),
        (err: Error) => sendJson(res, 413, { error: err.message }),
      );
    });
    const port = await listen(server, "127.0.0.1", 0);
    expect(port).toBeGreaterThan(0);
    const ok = await post(port, "hello");
    expect(ok).toMatchObject({ status: 200, headers: { "content-type": "application/json", "content-length": String(ok.text.length), "x-extra": "1" } });
    expect(JSON.parse(ok.text)).toEqual({ echoed: "hello" });
    const tooBig = await post(port, "x".repeat(100)).catch((err: Error) => ({ status: 0, text: err.message }));
    expect([0, 413]).toContain(tooBig.status);
    await closeServer(server);
    expect(server.listening).toBe(false);
    await closeServer(server); // closing twice is harmless
  });

  it("refuses to bind a port in use", async () => {
    const a = createServer();
    const port = await listen(a, "127.0.0.1", 0);
    await expect(listen(createServer(), "127.0.0.1", port)).rejects.toThrow(/EADDRINUSE/);
    await closeServer(a);
  });
});

describe("origin", () => {
  it.each<[string, number, string]>([
    ["127.0.0.1", 9000, "http://127.0.0.1:9000"],
    ["0.0.0.0", 3000, "http://127.0.0.1:3000"],
    ["::1", 9443, "http://[::1]:9443"],
  ])("%s:%i → %s", (host, port, expected) => expect(origin("http", host, port)).toBe(expected));
});
