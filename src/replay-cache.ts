/**
 * A bounded, in-memory record of the DPoP proofs (their `jti`) this container has accepted, so that a
 * proof is accepted at most once while its `iat` is inside the window (RFC 9449 §11.1).
 *
 * It is per container: Lambda runs many containers side by side and they share nothing, so a proof
 * replayed to another container within the window is not caught here. The window (and API Gateway
 * never caching a DPoP-bound answer, see the README) is what limits that.
 */
export class ReplayCache {
  /** key → when the entry may be forgotten (ms since the epoch), in insertion order. */
  private readonly seen = new Map<string, number>();

  constructor(
    /** At most this many entries; past it the oldest is forgotten first. */
    readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `key` until `forgetAt`. True when it was not already recorded (first use); false when it
   * was, and has not yet expired (a replay).
   */
  claim(key: string, forgetAt: number): boolean {
    const now = this.now();
    this.dropExpired(now);
    const previous = this.seen.get(key);
    if (previous !== undefined && previous > now) return false;
    this.seen.delete(key);
    while (this.seen.size >= this.capacity) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    this.seen.set(key, forgetAt);
    return true;
  }

  /** Forgets expired entries from the oldest on, stopping at the first live one (entries expire in roughly insertion order). */
  private dropExpired(now: number): void {
    for (const [key, forgetAt] of this.seen) {
      if (forgetAt > now) return;
      this.seen.delete(key);
    }
  }
}
