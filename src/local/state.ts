import { createPrivateKey, generateKeyPairSync, randomUUID, X509Certificate } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import selfsigned from "selfsigned";
import { type SigningKey, signingKeyFrom } from "./tokens";

/**
 * The local issuer's persistent state, kept in a git-ignored folder (default `.local/`) so tokens
 * minted before a restart still verify after it:
 *   <stateDir>/issuer/state.json   signing key + CA + server certificate (private, mode 0600)
 *   <stateDir>/ca/ca.pem           the CA certificate alone: NODE_EXTRA_CA_CERTS, curl --cacert
 */
export interface LocalState {
  readonly dir: string;
  readonly signingKey: SigningKey;
  readonly tls: { readonly caCert: string; readonly key: string; readonly cert: string };
  /** Absolute path of the CA certificate file. */
  readonly caFile: string;
}

/** Names the server certificate must carry: the host, compose's service name, loopback literals. */
export const SERVER_NAMES = ["localhost", "issuer"] as const;
export const SERVER_IPS = ["127.0.0.1", "::1"] as const;

interface StoredState {
  readonly version: 1;
  readonly signingKeyPem: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

const DAY_MS = 86_400_000;

export function defaultStateDir(cwd = process.cwd()): string {
  return resolve(cwd, ".local");
}

/** A CA and a server certificate it signed, for `names` (DNS) and `ips`; EC P-256, SHA-256. */
export interface Certificates {
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

export async function createCertificates(options: {
  readonly caName: string;
  readonly names: readonly string[];
  readonly ips: readonly string[];
  readonly caValidDays: number;
  readonly serverValidDays: number;
}): Promise<Certificates> {
  const now = Date.now();
  const ca = await selfsigned.generate([{ name: "commonName", value: options.caName }], {
    algorithm: "sha256",
    keyType: "ec",
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + options.caValidDays * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
    algorithm: "sha256",
    keyType: "ec",
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + options.serverValidDays * DAY_MS),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      {
        name: "subjectAltName",
        altNames: [...options.names.map((value) => ({ type: 2 as const, value })), ...options.ips.map((ip) => ({ type: 7 as const, ip }))],
      },
      { name: "extKeyUsage", serverAuth: true },
    ],
  });
  return { caCert: ca.cert, caKey: ca.private, serverCert: server.cert, serverKey: server.private };
}

const generateTls = (): Promise<Certificates> =>
  createCertificates({ caName: "jwt-authorizer local development CA", names: SERVER_NAMES, ips: SERVER_IPS, caValidDays: 3 * 365, serverValidDays: 365 });

/** Still usable: parses, valid for at least another day, and names every host it must. */
function usable(stored: StoredState): boolean {
  try {
    createPrivateKey(stored.signingKeyPem);
    const cert = new X509Certificate(stored.serverCert);
    if (new Date(cert.validTo).getTime() < Date.now() + DAY_MS) return false;
    if (!cert.verify(new X509Certificate(stored.caCert).publicKey)) return false;
    const san = cert.subjectAltName ?? "";
    return SERVER_NAMES.every((n) => san.includes(`DNS:${n}`)) && san.includes("IP Address:127.0.0.1");
  } catch {
    return false;
  }
}

function validKeyPem(stored: StoredState | undefined): string | undefined {
  if (!stored) return undefined;
  try {
    createPrivateKey(stored.signingKeyPem);
    return stored.signingKeyPem;
  } catch {
    return undefined;
  }
}

const newKeyPem = (): string =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }) as string;

function read(file: string): StoredState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as StoredState;
    return parsed.version === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The text of `file`, or undefined where it cannot be read (missing, say). */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The state the tools use, from what is stored in `dir`. */
function localState(dir: string, stored: StoredState, caFile: string): LocalState {
  return {
    dir,
    signingKey: signingKeyFrom(createPrivateKey(stored.signingKeyPem)),
    tls: { caCert: stored.caCert, key: stored.serverKey, cert: stored.serverCert },
    caFile,
  };
}

/** Writes `text` to `file` atomically; with `exclusive`, only if no file is there yet (false if one was). */
function writeAtomic(file: string, text: string, mode: number, exclusive: boolean): boolean {
  const tmp = `${file}.${randomUUID()}.tmp`;
  writeFileSync(tmp, text, { mode });
  try {
    if (!exclusive) {
      renameSync(tmp, file);
      return true;
    }
    try {
      linkSync(tmp, file); // fails with EEXIST when another process won the race
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw err;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** What to do when there is no usable issuer state: the host creates it, never a container. */
export const CREATE_STATE_HINT = "run `npm run -s token > /dev/null` on the host first: it creates .local/ owned by you";

/**
 * Loads the issuer state from `stateDir` without writing anything: for the compose issuer, which gets
 * the host's `.local/` mounted read-only so a container never leaves root-owned files there. Throws a
 * message that says what to do when the state is missing or no longer usable.
 */
export function loadExistingState(stateDir = defaultStateDir()): LocalState {
  const dir = resolve(stateDir);
  const stateFile = join(dir, "issuer", "state.json");
  const stored = read(stateFile);
  if (!stored) throw new Error(`no local issuer state in ${stateFile}: ${CREATE_STATE_HINT}`);
  if (!usable(stored)) throw new Error(`the local issuer state in ${stateFile} is expired or incomplete: ${CREATE_STATE_HINT} (it renews it)`);
  const caFile = join(dir, "ca", "ca.pem");
  if (readText(caFile) !== stored.caCert) throw new Error(`${caFile} is missing or is not the issuer's CA: ${CREATE_STATE_HINT} (it rewrites it)`);
  return localState(dir, stored, caFile);
}

/**
 * Loads the issuer state from `stateDir`, creating it on first use. Safe when several processes
 * (`npm start`, `npm run token`, parallel tests) start at once: exactly one creation wins and
 * everyone uses the winner's keys.
 */
export async function loadOrCreateState(stateDir = defaultStateDir()): Promise<LocalState> {
  const dir = resolve(stateDir);
  const stateFile = join(dir, "issuer", "state.json");
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(dir, "issuer"), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, "ca"), { recursive: true });

  let stored = read(stateFile);
  if (!stored || !usable(stored)) {
    const missing = stored === undefined;
    const signingKeyPem = validKeyPem(stored) ?? newKeyPem();
    const fresh: StoredState = { version: 1, signingKeyPem, ...(await generateTls()) };
    const text = `${JSON.stringify(fresh, null, 2)}\n`;
    // A missing file is claimed exclusively; an unusable one (expired certificate) is replaced.
    // Either way what is on disk afterwards wins, so racing processes end up with the same keys.
    writeAtomic(stateFile, text, 0o600, missing);
    stored = read(stateFile);
    if (!stored) throw new Error(`cannot read the local issuer state at ${stateFile}`);
  }

  const caFile = join(dir, "ca", "ca.pem");
  if (readText(caFile) !== stored.caCert) writeAtomic(caFile, stored.caCert, 0o644, false);
  return localState(dir, stored, caFile);
}
