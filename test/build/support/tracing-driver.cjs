// Child process for tracer-chunk.test.ts: loads dist/index.js with the environment it was given,
// answers one TOKEN event, and reports (on stdout, one JSON line) what a local X-Ray daemon (UDP on
// 127.0.0.1) received and whether the Tracer module was loaded. Exits by itself.
const dgram = require("node:dgram");

const daemon = dgram.createSocket("udp4");
const packets = [];
daemon.on("message", (m) => packets.push(m.toString("utf8")));
const stop = setTimeout(() => process.exit(3), 10_000);
daemon.bind(0, "127.0.0.1", () => {
  process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${daemon.address().port}`;
  const { handler } = require(process.argv[2]);
  const tracerLoaded = process.env.AWS_XRAY_CONTEXT_MISSING !== undefined;
  const event = {
    type: "TOKEN",
    authorizationToken: "Bearer not.a.jwt",
    methodArn: "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/pets",
  };
  handler(event, { functionName: "f", awsRequestId: "r-1" })
    .then(() => "answered", (err) => `threw ${err.message}`)
    .then((outcome) =>
      setTimeout(() => {
        const segments = packets.map((p) => p.split("\n")[1]).filter(Boolean).map((s) => JSON.parse(s));
        process.stderr.write(`${JSON.stringify({ outcome, tracerLoaded, segments })}\n`);
        clearTimeout(stop);
        daemon.close();
        process.exit(0);
      }, 300),
    );
});
