// A probe handler for the stand-in Lambda base image's contract (test/container/run.sh, step "stand-in
// contract"): it reports the environment the runtime sees, and can wait, fail or overrun on request.
module.exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.waitMs ?? 0));
  if (event.fail) throw new Error("probe failure");
  const env = process.env;
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memorySize: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroup: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStream: env.AWS_LAMBDA_LOG_STREAM_NAME,
    executionEnv: env.AWS_EXECUTION_ENV,
    taskRoot: env.LAMBDA_TASK_ROOT,
    handler: env._HANDLER,
    cwd: process.cwd(),
    runtimeApi: env.AWS_LAMBDA_RUNTIME_API,
  };
};
