import type { Store } from '@clickthread/core/storage';

/**
 * Holds the next `count` enqueues that store jobs until all of them are waiting (or a second has
 * passed), then lets them go together: deliveries of one order that planned side by side, each
 * against the history the other has not changed yet. What a busy process or two processes do by
 * chance, made certain for a test.
 */
export interface SideBySideGate {
  arm(count: number): void;
  wrap(store: Store): Store;
}

export function sideBySideGate(): SideBySideGate {
  let armed = 0;
  const waiting: Array<() => void> = [];
  const releaseAll = (): void => {
    for (const release of waiting.splice(0)) release();
  };
  return {
    arm(count) {
      armed = count;
    },
    wrap(store) {
      return {
        ...store,
        enqueue: async (input) => {
          if (armed > 0 && input.jobs.length > 0) {
            armed -= 1;
            await new Promise<void>((resolve) => {
              waiting.push(resolve);
              if (armed === 0) releaseAll();
              else setTimeout(releaseAll, 1_000);
            });
          }
          return store.enqueue(input);
        },
      };
    },
  };
}
