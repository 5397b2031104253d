import { createHmac, sign } from "node:crypto";
import { b64url, type TestKey } from "../../support/keys";

/** header.payload from raw JSON text (so tests can write duplicate keys, odd types…). */
export const unsignedPart = (headerJson: string, payloadJson: string): string =>
  `${b64url(headerJson)}.${b64url(payloadJson)}`;

/** RS256/ES256 signature over `input` with `key`, as base64url. */
export function signature(input: string, key: TestKey): string {
  const sig =
    key.alg === "RS256"
      ? sign("sha256", Buffer.from(input), key.privateKey)
      : sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return sig.toString("base64url");
}

/** A token from raw header/payload JSON text signed by `key` (whatever the header claims). */
export function signRaw(headerJson: string, payloadJson: string, key: TestKey): string {
  const input = unsignedPart(headerJson, payloadJson);
  return `${input}.${signature(input, key)}`;
}

/** HS256 over header.payload with `secret` as the HMAC key (the algorithm-confusion attack). */
export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = unsignedPart(JSON.stringify({ ...header, alg: "HS256" }), JSON.stringify(payload));
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}
