/**
 * Test resources that keep Node's event loop alive: the JWKS servers, Lambda child processes and trace
 * sinks that test/support's helpers start (not the servers of src/local, nor a test's own
 * `createServer`). A test closes what it starts, but a failing assertion skips its `close()`; jest
 * then reports the failure and waits for the leftover forever ("did not exit"), so CI would hang until
 * its time limit instead of failing. Every such resource is tracked here and, whatever its test did,
 * closed after its test file (jest.config.js: setupFilesAfterEnv). `close()` becomes idempotent.
 */
interface Closable {
  close(): Promise<void>;
}

const open = new Set<Closable>();

/** Tracks `resource` until it is closed; its `close()` may then be called any number of times. */
export function track<T extends Closable>(resource: T): T {
  const closeOnce = resource.close.bind(resource);
  let closing: Promise<void> | undefined;
  resource.close = () => {
    open.delete(resource);
    closing ??= closeOnce();
    return closing;
  };
  open.add(resource);
  return resource;
}

/** How many tracked resources are still open. */
export const openResources = (): number => open.size;

/** Closes every tracked resource still open. */
export async function closeLeftovers(): Promise<void> {
  await Promise.all([...open].map((resource) => resource.close()));
}
