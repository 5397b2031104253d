/** Verified claims → the principal and the context API Gateway hands to the backend. */
import { contextOf, principalOf } from "../src/claims";
import { ClaimShapeError } from "../src/errors";

const cognitoAccess = {
  sub: "u-1",
  iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",
  client_id: "client-1",
  token_use: "access",
  scope: "pets/read  pets/write",
  "cognito:groups": ["admin", "vet"],
  username: "alice",
  exp: 2,
  iat: 1,
};

describe("principalOf", () => {
  it("reads a Cognito access token: scopes split on spaces, groups, username, client id", () => {
    expect(principalOf(cognitoAccess)).toEqual({
      sub: "u-1",
      username: "alice",
      clientId: "client-1",
      scopes: ["pets/read", "pets/write"],
      groups: ["admin", "vet"],
      tokenUse: "access",
      issuer: cognitoAccess.iss,
    });
  });

  it("takes the client id from aud (string or first of a list), and sub from it for client-credentials tokens without sub", () => {
    expect(principalOf({ iss: "https://i", aud: "api-client" })).toMatchObject({ sub: "api-client", clientId: "api-client", scopes: [], groups: [] });
    expect(principalOf({ iss: "https://i", sub: "s", aud: ["a1", "a2"] }).clientId).toBe("a1");
    expect(principalOf({ iss: "https://i", sub: "s", "cognito:username": "bob" }).username).toBe("bob");
  });

  it.each<[string, Record<string, unknown>]>([
    ["groups that are not a list", { ...cognitoAccess, "cognito:groups": "admin" }],
    ["groups with a non-string", { ...cognitoAccess, "cognito:groups": ["admin", 1] }],
    ["a username that is not a string", { ...cognitoAccess, username: 7 }],
    ["neither sub nor a client id", { iss: "https://i" }],
  ])("refuses %s (a 401)", (_name, payload) => {
    expect(() => principalOf(payload as never)).toThrow(ClaimShapeError);
  });
});

describe("contextOf", () => {
  it("holds primitives only, with the claims as one JSON string", () => {
    const context = contextOf(principalOf(cognitoAccess), cognitoAccess);
    expect(context).toEqual({
      sub: "u-1",
      scope: "pets/read pets/write",
      groups: "admin,vet",
      issuer: cognitoAccess.iss,
      claims: JSON.stringify(cognitoAccess),
      username: "alice",
      clientId: "client-1",
      tokenUse: "access",
    });
    for (const value of Object.values(context)) expect(["string", "number", "boolean"]).toContain(typeof value);
  });

  it("leaves out what the token does not say", () => {
    const payload = { iss: "https://i", sub: "s" };
    expect(Object.keys(contextOf(principalOf(payload), payload)).sort()).toEqual(["claims", "groups", "issuer", "scope", "sub"]);
  });
});
