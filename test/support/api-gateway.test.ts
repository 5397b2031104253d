/**
 * The independent judge itself, on cases taken from AWS's documentation: IAM wildcards (`*` any run
 * of characters, `/` included; `?` one character), explicit Deny over Allow, implicit deny, and the
 * answers API Gateway rejects as invalid.
 */
import { invalidReason, judgeAnswer } from "./api-gateway";

const P = "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/prod";
const policy = (allow: string[], deny: string[] = [], extra: Record<string, unknown> = {}) => ({
  principalId: "user",
  policyDocument: {
    Version: "2012-10-17",
    Statement: [
      ...(allow.length > 0 ? [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: allow }] : []),
      ...(deny.length > 0 ? [{ Action: "execute-api:Invoke", Effect: "Deny", Resource: deny }] : []),
    ],
  },
  ...extra,
});

describe("judgeAnswer", () => {
  it.each<[string, string[], string[], string, "Allow" | "Deny"]>([
    ["* crosses /", [`${P}/*/status`], [], `${P}/DELETE/admin/users/42/status`, "Allow"],
    ["a literal matches only itself", [`${P}/GET/pets`], [], `${P}/GET/pets/1`, "Deny"],
    ["? is one character", [`${P}/GET/pets/?`], [], `${P}/GET/pets/7`, "Allow"],
    ["? is not two", [`${P}/GET/pets/?`], [], `${P}/GET/pets/77`, "Deny"],
    ["?* needs one character at least", [`${P}/GET/pets/?*`], [], `${P}/GET/pets/`, "Deny"],
    ["the root path", [`${P}/GET/`], [], `${P}/GET/`, "Allow"],
    ["explicit Deny wins", [`${P}/*/*`], [`${P}/DELETE/*`], `${P}/DELETE/pets/1`, "Deny"],
    ["another stage is not covered", [`${P}/*/*`], [], `${P.replace("/prod", "/dev")}/GET/pets`, "Deny"],
    ["the docs' any-stage Deny", [`${P}/*/*`], ["arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/"], `${P}/GET/`, "Deny"],
    ["a * in the request is a character, not a pattern", [`${P}/GET/pets`], [], `${P}/GET/*`, "Deny"],
    ["a policy * still matches a * character", [`${P}/GET/a*`], [], `${P}/GET/a*b`, "Allow"],
    ["a stage-only Deny matches no method ARN", [], [P], `${P}/GET/`, "Deny"],
  ])("%s", (_name, allow, deny, arn, expected) => {
    expect(judgeAnswer(policy(allow, deny), arn)).toBe(expected);
  });

  it.each<[string, string[], string]>([
    ["a policy variable or IAM escape in a Resource", [`${P}/GET/a\${*}`], `${P}/GET/a*`],
    ["a line break in the request", [`${P}/GET/a/?*`], `${P}/GET/a/x\ny`],
    ["a control character in a Resource", [`${P}/GET/a\tb`], `${P}/GET/a`],
  ])("refuses to judge %s (the simulator would misjudge it)", (_name, allow, arn) => {
    expect(() => judgeAnswer(policy(allow), arn)).toThrow("judgeAnswer cannot judge");
  });

  it("reads simple responses as they are", () => {
    expect(judgeAnswer({ isAuthorized: true, context: { a: 1 } }, `${P}/GET/x`)).toBe("Allow");
    expect(judgeAnswer({ isAuthorized: false }, `${P}/GET/x`)).toBe("Deny");
  });

  it.each<[string, unknown]>([
    ["no principalId", { policyDocument: policy([`${P}/*`]).policyDocument }],
    ["no statements", policy([])],
    ["an object in the context", policy([`${P}/*`], [], { context: { nested: { a: 1 } } })],
    ["a Resource over 512 characters", policy([`${P}/GET/${"x".repeat(512)}`])],
    ["isAuthorized not a boolean", { isAuthorized: "yes" }],
  ])("calls an answer with %s invalid (a 500)", (_name, answer) => {
    expect(invalidReason(answer)).toBeDefined();
    expect(judgeAnswer(answer, `${P}/GET/x`)).toBe("Invalid");
  });
});
