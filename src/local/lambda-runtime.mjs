// The local stand-in for the Lambda Node.js runtime, run as a child process by invoke-server.ts.
// Like the real runtime it resolves the handler string (`_HANDLER`, e.g. "index.handler") against
// LAMBDA_TASK_ROOT, loads the module once (so module-scope init runs once, with this process's env),
// then runs one invocation at a time, receiving events and returning results over the IPC channel.
// Plain JavaScript on purpose: it must start with `node` alone and load only the built bundle.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const send = (message) => process.send?.(message);

/** The real runtime's error shape: errorType, errorMessage, trace. */
function errorBody(err) {
  const error = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: error.name || "Error",
    errorMessage: error.message,
    trace: typeof error.stack === "string" ? error.stack.split("\n") : [],
  };
}

/** "dir/index.handler" → module "dir/index" (.js, .mjs or .cjs in the task root), export path "handler". */
async function loadHandler(taskRoot, handlerString) {
  const dot = handlerString.lastIndexOf(".");
  if (dot <= 0 || dot === handlerString.length - 1) {
    throw Object.assign(new Error(`Bad handler ${handlerString}: expected module.export`), { name: "Runtime.MalformedHandlerName" });
  }
  const modulePath = handlerString.slice(0, dot);
  const exportPath = handlerString.slice(dot + 1);
  const base = join(taskRoot, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${modulePath}' in ${taskRoot}`), { name: "Runtime.ImportModuleError" });
  }
  const mod = file.endsWith(".mjs")
    ? await import(pathToFileURL(file).href)
    : createRequire(join(taskRoot, "noop.js"))(file);
  let target = mod;
  for (const part of exportPath.split(".")) target = target?.[part];
  if (typeof target !== "function") {
    throw Object.assign(new Error(`${modulePath}.${exportPath} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  }
  return { handler: target, file };
}

function contextFor(message) {
  const env = process.env;
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME ?? "test_function";
  const region = env.AWS_REGION ?? "us-east-1";
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "128",
    awsRequestId: message.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${functionName}`,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? "local/[$LATEST]local",
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function main() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const handlerString = process.env._HANDLER ?? "index.handler";
  let handler;
  try {
    const loaded = await loadHandler(taskRoot, handlerString);
    handler = loaded.handler;
    send({ type: "ready", file: loaded.file });
  } catch (err) {
    send({ type: "init-error", body: JSON.stringify(errorBody(err)) });
    return;
  }
  process.on("message", async (message) => {
    if (message?.type !== "invoke") return;
    process.env._X_AMZN_TRACE_ID = message.traceId ?? "";
    let body;
    let ok = true;
    try {
      const event = message.payload.trim() === "" ? {} : JSON.parse(message.payload);
      const result = await handler(event, contextFor(message));
      body = JSON.stringify(result === undefined ? null : result);
    } catch (err) {
      ok = false;
      body = JSON.stringify(errorBody(err));
    }
    send({ type: "result", id: message.id, ok, body });
  });
}

// Ctrl-C reaches the whole process group: let the parent decide when this process ends (it sends
// SIGTERM on close, and the IPC channel closing ends it too).
process.on("SIGINT", () => {});
process.on("disconnect", () => process.exit(0));
main();
