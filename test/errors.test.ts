/** src/errors.ts: one root, literal names, the decision on the class; aws-jwt-verify's errors classified as before. */
import * as jwtErrors from "aws-jwt-verify/error";
import * as claimChecks from "../src/claim-checks";
import * as errors from "../src/errors";
import { AuthorizerError, classifyFailure, reasonOf, withoutStackTrace } from "../src/errors";
import * as jwks from "../src/jwks";

type AnyError = new (...args: string[]) => Error;

/** Every concrete AuthorizerError subclass our modules export, with its export name. */
const ours = (Object.entries({ ...errors, ...claimChecks, ...jwks }) as [string, unknown][]).filter(
  (entry): entry is [string, AnyError] => typeof entry[1] === "function" && entry[1].prototype instanceof AuthorizerError,
);

/** The decision each of our errors must map to: Invalid (401) for a bad token, Error (500) for our failures. */
const EXPECTED: Record<string, string> = {
  MissingTokenError: "Invalid",
  UnknownIssuerError: "Invalid",
  ClaimShapeError: "Invalid",
  MalformedEventError: "Error",
  ConfigError: "Error",
  NonCanonicalEncodingError: "Invalid",
  UnsupportedJwsExtensionError: "Invalid",
  TokenTypeError: "Invalid",
  RequiredClaimError: "Invalid",
  IssuedInFutureError: "Invalid",
  TokenUseMismatchError: "Invalid",
  JwksTooLargeError: "Error",
};

describe("AuthorizerError subclasses", () => {
  it("are exactly the expected ones (a new one must be added to the table above)", () => {
    expect(ours.map(([name]) => name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(ours)("%s names itself literally and maps to its decision", (exportName, Cls) => {
    const err = new Cls("VAR", "problem");
    expect(err).toBeInstanceOf(AuthorizerError);
    expect(err.name).toBe(exportName);
    expect(reasonOf(err)).toBe(exportName);
    expect(classifyFailure(err)).toBe(EXPECTED[exportName]);
    expect(String(err.stack)).toBeDefined();
  });

  it.each(ours)("%s captures no stack frames and leaves Error.stackTraceLimit as it was", (_name, Cls) => {
    const before = Error.stackTraceLimit;
    const err = new Cls("VAR", "problem");
    expect(String(err.stack)).not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("ConfigError names the variable", () => {
    const err = new errors.ConfigError("JWT_TYP", "must be a media type");
    expect(err.variable).toBe("JWT_TYP");
    expect(err.message).toBe("JWT_TYP must be a media type");
  });
});

describe("aws-jwt-verify's errors", () => {
  const library = (Object.entries(jwtErrors) as [string, unknown][]).filter((entry): entry is [string, AnyError] => typeof entry[1] === "function" && entry[0].endsWith("Error"));
  const OUR_FAILURES = ["FetchError", "NonRetryableFetchError", "JwksValidationError", "JwkValidationError", "JwksNotAvailableInCacheError", "ParameterValidationError", "NotSupportedError"];

  it.each(library.filter(([name]) => name !== "JwtBaseError" && name !== "JwtInvalidClaimError"))("%s keeps its name and decision", (name, Cls) => {
    const err = new Cls("message", "actual", "expected");
    expect(reasonOf(err)).toBe(name);
    const expected = OUR_FAILURES.includes(name) ? "Error" : name === "JwtExpiredError" ? "Expired" : "Invalid";
    expect([name, classifyFailure(err)]).toEqual([name, expected]);
  });
});

describe("anything else", () => {
  it("is our failure, named by its class or type", () => {
    expect(classifyFailure(new TypeError("x"))).toBe("Error");
    expect(reasonOf(new TypeError("x"))).toBe("TypeError");
    expect(classifyFailure("a string")).toBe("Error");
    expect(reasonOf("a string")).toBe("string");
    expect(reasonOf(undefined)).toBe("undefined");
  });
});

describe("withoutStackTrace", () => {
  it("returns what its function returns, and errors made inside carry no frames", () => {
    expect(withoutStackTrace(() => 42)).toBe(42);
    const err = withoutStackTrace(() => new Error("inside"));
    expect(err.message).toBe("inside");
    expect(String(err.stack)).not.toMatch(/\n\s+at /);
    expect(String(new Error("outside").stack)).toMatch(/\n\s+at /);
  });

  it("restores Error.stackTraceLimit even when its function throws", () => {
    const before = Error.stackTraceLimit;
    expect(() =>
      withoutStackTrace(() => {
        throw new jwtErrors.JwtParseError("bad");
      }),
    ).toThrow(jwtErrors.JwtParseError);
    expect(Error.stackTraceLimit).toBe(before);
  });
});
