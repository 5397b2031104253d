/**
 * The local HTTPS issuer: trusted through the local CA only, serving its key set, OpenID configuration
 * and Cognito-shaped tokens.
 */
import { startIssuer } from "../../src/local/issuer";
import { loadOrCreateState } from "../../src/local/state";
import { LOCAL_CLIENT_ID, LOCAL_ISSUER } from "../../src/local/tokens";
import { decode, getJson, signatureValid, useStateDir } from "./support";

const stateDirOf = useStateDir();

describe("HTTPS issuer", () => {
  it("serves JWKS, discovery and tokens, trusted through the local CA only", async () => {
    const state = await loadOrCreateState(stateDirOf());
    const issuer = await startIssuer({ state });
    try {
      await expect(getJson(issuer.jwksUri)).rejects.toThrow(/certificate/i);
      const jwks = await getJson(issuer.jwksUri, state.tls.caCert);
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: "RSA", alg: "RS256", use: "sig", kid: state.signingKey.kid })]);
      expect(JSON.stringify(jwks.body)).not.toMatch(/"d"|"p"|"q"/);

      const discovery = await getJson(`${issuer.url}/.well-known/openid-configuration`, state.tls.caCert);
      expect(discovery.body).toMatchObject({ issuer: LOCAL_ISSUER, jwks_uri: issuer.jwksUri });

      const minted = await getJson(`${issuer.url}/token?scope=pets/read%20pets/write&group=admin&group=ops&sub=carol`, state.tls.caCert);
      const jwt = String(minted.body.access_token);
      expect(signatureValid(jwt, jwks.body as { keys: Record<string, string>[] })).toBe(true);
      const claims = decode(jwt);
      expect(claims).toMatchObject({
        iss: LOCAL_ISSUER,
        sub: "carol",
        client_id: LOCAL_CLIENT_ID,
        token_use: "access",
        scope: "pets/read pets/write",
        "cognito:groups": ["admin", "ops"],
      });
      expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
      expect(typeof claims.jti).toBe("string");

      const expired = decode(String((await getJson(`${issuer.url}/token?expired=1`, state.tls.caCert)).body.access_token));
      expect(Number(expired.exp)).toBeLessThan(Date.now() / 1000);
      const bad = await getJson(`${issuer.url}/token?token_use=refresh`, state.tls.caCert);
      expect(bad.status).toBe(400);
      expect(issuer.jwksRequests()).toBe(1);
    } finally {
      await issuer.close();
    }
  });
});
