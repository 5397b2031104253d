/** The local pool's tokens: the one parser of token options, and the claims a minted token carries. */
import { generateKeyPairSync, verify } from "node:crypto";
import { DEFAULT_SCOPES, DEFAULT_SUB, LOCAL_CLIENT_ID, LOCAL_ISSUER, localClaims, mintToken, parseMintOptions, rsaThumbprint, signingKeyFrom } from "../../src/local/tokens";

const CLI = { scope: "--scope", group: "--group", expired: "--expired", expiresIn: "--expires-in", sub: "--sub", clientId: "--client-id", tokenUse: "--token-use", claim: "--claim" };
const HTTP = { ...CLI, expiresIn: "expires_in", tokenUse: "token_use", clientId: "client_id" };

describe("parseMintOptions", () => {
  it("splits repeatable scopes and groups on spaces and commas, and parses claim values as JSON when it can", () => {
    expect(parseMintOptions({ scope: ["pets/read pets/write", "a,b"], group: ["admin"], claim: ["tier=\"gold\"", "level=3", "note=plain text"] }, CLI)).toEqual({
      scopes: ["pets/read", "pets/write", "a", "b"],
      groups: ["admin"],
      claims: { tier: "gold", level: 3, note: "plain text" },
    });
  });

  it("takes whole seconds, access or id, and leaves out what was not given", () => {
    expect(parseMintOptions({ expiresIn: "60", tokenUse: "id", expired: true, sub: "s", clientId: "c" }, CLI)).toEqual({
      expiresInSeconds: 60,
      tokenUse: "id",
      expired: true,
      sub: "s",
      clientId: "c",
    });
    expect(parseMintOptions({}, CLI)).toEqual({});
  });

  it.each<[Parameters<typeof parseMintOptions>[0], typeof CLI, string]>([
    [{ expiresIn: "1.5" }, CLI, '--expires-in must be a whole number of seconds, got "1.5"'],
    [{ expiresIn: "soon" }, HTTP, 'expires_in must be a whole number of seconds, got "soon"'],
    [{ tokenUse: "refresh" }, CLI, '--token-use must be access or id, got "refresh"'],
    [{ tokenUse: "" }, HTTP, 'token_use must be access or id, got ""'],
    [{ claim: ["=x"] }, CLI, '--claim must be key=value, got "=x"'],
  ])("rejects %p, naming the option as the caller spells it", (input, names, message) => {
    expect(() => parseMintOptions(input, names)).toThrow(message);
  });
});

describe("minted tokens", () => {
  const key = signingKeyFrom(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);

  it("carry Cognito access-token claims of the local pool by default", () => {
    const claims = localClaims({}, 1_000_000);
    expect(claims).toMatchObject({ iss: LOCAL_ISSUER, sub: DEFAULT_SUB, client_id: LOCAL_CLIENT_ID, token_use: "access", scope: DEFAULT_SCOPES.join(" "), iat: 1_000_000, exp: 1_003_600 });
  });

  it("are expired by at least an hour when asked, and ID tokens carry aud instead of scope", () => {
    expect(localClaims({ expired: true, expiresInSeconds: 60 }, 1_000_000).exp).toBe(1_000_000 - 3600);
    const id = localClaims({ tokenUse: "id" }, 1_000_000);
    expect(id).toMatchObject({ token_use: "id", aud: LOCAL_CLIENT_ID });
    expect(id.scope).toBeUndefined();
  });

  it("are signed RS256 with a kid that is the key's RFC 7638 thumbprint", () => {
    const [h, p, s] = mintToken(key, {}, 1_000_000).split(".");
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({ kid: key.kid, alg: "RS256" });
    expect(key.kid).toBe(rsaThumbprint(key.jwk));
    expect(verify("sha256", Buffer.from(`${h}.${p}`), key.privateKey, Buffer.from(s, "base64url"))).toBe(true);
  });
});
