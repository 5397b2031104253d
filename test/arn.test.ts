/** execute-api method and route ARNs, as REST and HTTP APIs send them. */
import { parseMethodArn } from "../src/arn";

const PREFIX = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod";

describe("parseMethodArn", () => {
  it("splits REST and HTTP API ARNs into stage prefix, method and path", () => {
    expect(parseMethodArn(`${PREFIX}/GET/pets/42`)).toEqual({ stagePrefix: PREFIX, method: "GET", path: "pets/42", arn: `${PREFIX}/GET/pets/42` });
    expect(parseMethodArn("arn:aws:execute-api:us-east-1:123456789012:abc123/$default/POST/")?.path).toBe("");
    expect(parseMethodArn("arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/GET/a/b")).toMatchObject({ method: "GET", path: "a/b" });
  });

  it("keeps an ARN whose method part is not a verb ($default), with an empty path", () => {
    expect(parseMethodArn("arn:aws:execute-api:us-east-1:123456789012:abc123/$default/$default")).toMatchObject({ method: "$default", path: "" });
  });

  it.each([
    undefined,
    42,
    "",
    "arn:aws:s3:::bucket",
    "arn:aws:execute-api:eu-west-1:123:abc/prod/GET/x",
    `${PREFIX.replace("/prod", "/pr*d")}/GET/x`,
    `${PREFIX}`,
    `arn:aws:execute-api:eu-west-1:123456789012:abc/prod/GET/${"x".repeat(1600)}`,
  ])("rejects %p", (value) => expect(parseMethodArn(value)).toBeUndefined());
});
