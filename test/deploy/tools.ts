/**
 * Checks that need a tool which may be missing (the SAM schema file, the SAM translator, cfn-lint).
 * Locally a missing tool skips its checks with a message saying why; in CI (CI=true) it fails the
 * run instead, so that CI never passes on a check it did not make.
 */

export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/** describe() when the tool is there; otherwise a skip with a message, or in CI one failing test. */
export function describeWithTool(available: boolean, tool: string, name: string, body: () => void): void {
  if (available) {
    describe(name, body);
    return;
  }
  if (IN_CI) {
    describe(name, () => {
      it(`has ${tool} (CI=true: a missing tool fails the run)`, () => {
        throw new Error(`${tool} is missing, so "${name}" cannot run; CI requires it`);
      });
    });
    return;
  }
  // Shown in the jest output, so a skipped check never passes silently.
  console.warn(`SKIPPED "${name}": ${tool} is missing (in CI this fails the run)`);
  describe.skip(name, body);
}
