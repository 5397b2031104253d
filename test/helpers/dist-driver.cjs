// Child-process driver for the built bundle: loads the handler exactly as Lambda would
// (module-scope init reads this process's env), then runs the events the parent sends over IPC.
"use strict";
const { handler } = require(process.argv[2]);

let invocation = 0;
process.on("message", async ({ id, event }) => {
  invocation += 1;
  const context = {
    functionName: "jwt-authorizer-dist",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:jwt-authorizer-dist",
    memoryLimitInMB: "256",
    awsRequestId: `dist-request-${invocation}`,
    logGroupName: "/aws/lambda/jwt-authorizer-dist",
    logStreamName: "local",
    getRemainingTimeInMillis: () => 5000,
  };
  try {
    const result = await handler(event, context);
    process.send({ id, result });
  } catch (err) {
    process.send({ id, error: { message: err.message, type: err.constructor.name } });
  }
});
process.send({ ready: true });
