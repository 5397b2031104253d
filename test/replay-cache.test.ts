import { ReplayCache } from "../src/replay-cache";

describe("ReplayCache", () => {
  it("claims a key once until it expires, then again", () => {
    let now = 1000;
    const cache = new ReplayCache(10, () => now);
    expect(cache.claim("a", 2000)).toBe(true);
    expect(cache.claim("a", 2000)).toBe(false);
    now = 2000;
    expect(cache.claim("a", 3000)).toBe(true);
  });

  it("never holds more than its capacity, forgetting the oldest first", () => {
    const cache = new ReplayCache(3, () => 0);
    for (const k of ["a", "b", "c", "d"]) expect(cache.claim(k, 1000)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.claim("d", 1000)).toBe(false);
    expect(cache.claim("a", 1000)).toBe(true); // forgotten: the documented limit of a bounded cache
  });

  it("drops expired entries as time passes", () => {
    let now = 0;
    const cache = new ReplayCache(100, () => now);
    for (let i = 0; i < 50; i += 1) cache.claim(`k${i}`, 10);
    now = 11;
    cache.claim("new", 100);
    expect(cache.size).toBe(1);
  });
});
