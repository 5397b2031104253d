/** Decisions → API Gateway answers (pure), judged by the independent IAM simulator where it matters. */
import type { Access } from "../src/access";
import { parseMethodArn } from "../src/arn";
import { policyResponse, simpleResponse } from "../src/response";
import { judgeAnswer } from "./support/api-gateway";

const PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";
const arn = (tail: string) => parseMethodArn(`${PREFIX}/${tail}`)!;
const context = { sub: "u-1", scope: "pets/read" };

describe("policyResponse", () => {
  it("allows what access allows, with the context, and no Deny when the request is allowed", () => {
    const access: Access = { permitted: true, allow: [`${PREFIX}/GET/pets`], allowsRequest: true };
    const answer = policyResponse("u-1", access, arn("GET/pets"), context);
    expect(answer).toEqual({
      principalId: "u-1",
      policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: [`${PREFIX}/GET/pets`] }] },
      context,
    });
    expect(judgeAnswer(answer, `${PREFIX}/GET/pets`)).toBe("Allow");
  });

  it("denies a request it does not allow by naming exactly its ARN, and keeps the context", () => {
    const access: Access = { permitted: false, allow: [`${PREFIX}/GET/pets`], allowsRequest: false };
    const answer = policyResponse("u-1", access, arn("POST/pets"), context);
    expect(answer.policyDocument.Statement[1]).toEqual({ Action: "execute-api:Invoke", Effect: "Deny", Resource: [`${PREFIX}/POST/pets`] });
    expect(answer.context).toEqual(context);
    expect(judgeAnswer(answer, `${PREFIX}/POST/pets`)).toBe("Deny");
    expect(judgeAnswer(answer, `${PREFIX}/GET/pets`)).toBe("Allow");
  });

  it("leaves a wildcard-bearing ARN out of the Deny; with nothing allowed it denies the stage ARN, which matches no request", () => {
    const none: Access = { permitted: false, allow: [], allowsRequest: false };
    const answer = policyResponse("u-1", none, arn("GET/pets/*"), context);
    expect(answer.policyDocument.Statement).toEqual([{ Action: "execute-api:Invoke", Effect: "Deny", Resource: [PREFIX] }]);
    expect(judgeAnswer(answer, `${PREFIX}/GET/pets/*`)).toBe("Deny");
    const some: Access = { permitted: false, allow: [`${PREFIX}/GET/pets`], allowsRequest: false };
    expect(policyResponse("u-1", some, arn("GET/a?b"), context).policyDocument.Statement.map((s) => s.Effect)).toEqual(["Allow"]);
  });
});

describe("simpleResponse", () => {
  it("says the decision, with the context only on an allow", () => {
    expect(simpleResponse(true, context)).toEqual({ isAuthorized: true, context });
    expect(simpleResponse(false, context)).toEqual({ isAuthorized: false });
  });
});
