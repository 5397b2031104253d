/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 30000,
  // Closes the JWKS servers, Lambda child processes and trace sinks (test/support) that a failing test
  // left open, so jest exits instead of hanging.
  setupFilesAfterEnv: ["<rootDir>/test/support/after-each-file.ts"],
};
