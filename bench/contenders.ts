/**
 * The decision-rate part's contenders (issue 12's workloads) and the protocol between bench/main.ts
 * and each contender's process (bench/throughput-worker.ts).
 */
export interface SerializedKey {
  readonly kid: string;
  readonly pem: string;
  readonly jwk: Record<string, string>;
}
export type ScenarioName =
  | "crypto"
  | "floor"
  | "allowToken"
  | "allowRequest"
  | "expired"
  | "garbage"
  | "unknownKid"
  | "forbidden"
  | "dpopRequest"
  | "dpopRequestRs256";

/** The workloads of issue 12: TOKEN events unless the name says REQUEST. */
export const SCENARIOS: readonly ScenarioName[] = ["crypto", "floor", "allowToken", "allowRequest", "expired", "garbage", "unknownKid", "forbidden", "dpopRequest", "dpopRequestRs256"];

/** Extra environment of a contender's handler (DPoP needs sender-constrained tokens accepted). */
export const CONTENDER_ENV: Partial<Record<ScenarioName, Record<string, string>>> = {
  dpopRequest: { BOUND_TOKENS: "accept" },
  dpopRequestRs256: { BOUND_TOKENS: "accept" },
};

/** What API Gateway must make of every answer of each contender. */
export const EXPECTED: Record<ScenarioName, string> = {
  crypto: "Other",
  floor: "Other",
  allowToken: "Allow",
  allowRequest: "Allow",
  expired: "Unauthorized",
  garbage: "Unauthorized",
  unknownKid: "Unauthorized",
  forbidden: "Deny",
  dpopRequest: "Allow",
  dpopRequestRs256: "Allow",
};

export type ToWorker =
  | { readonly type: "init"; readonly keys: { known: SerializedKey; unknown: SerializedKey } }
  /** `count`: false in the warm-up round (JIT, the first invocation and its ColdStart metric, the key-set prefetch). */
  | { readonly type: "prepare"; readonly n: number; readonly count: boolean }
  | { readonly type: "run"; readonly from: number; readonly to: number }
  | { readonly type: "verdicts" }
  | { readonly type: "exit" };
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "ran"; readonly ms: number }
  | { readonly type: "verdicts"; readonly verdicts: Record<string, number>; readonly handlerInvocations: number; readonly floorDecisions: number }
  | { readonly type: "error"; readonly message: string };

