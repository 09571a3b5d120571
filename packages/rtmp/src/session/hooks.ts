/**
 * How the session calls an application hook (`onConnect`, `onPublish`): no hook accepts; a throw
 * refuses; a synchronous return accepts at once, so sync hooks cost no tick; a thenable is awaited
 * (the session holds its input meanwhile).
 */

/** Outcome of starting a hook: settled at once, or a promise still to settle. */
export type HookStart = { settled: 'accept' } | { settled: 'refuse'; error: unknown } | { pending: Promise<void> };

/** Calls `hook(info)` and says whether it settled synchronously. */
export function startHook<T>(hook: ((info: T) => void | Promise<void>) | undefined, info: T): HookStart {
  if (hook === undefined) return { settled: 'accept' };
  let result: void | Promise<void>;
  try {
    result = hook(info);
  } catch (error) {
    return { settled: 'refuse', error };
  }
  if (result === undefined || result === null || typeof (result as Promise<void>).then !== 'function') {
    return { settled: 'accept' };
  }
  return { pending: Promise.resolve(result) };
}
