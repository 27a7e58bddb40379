// The steps of one journey: each needs the ones before it, so after a failure the rest are
// skipped (not failed again), and a screenshot shows where it broke.
import { it } from "node:test";

/**
 * Returns `{ step, failed }`: `step(name, fn)` declares a step, `failed()` tells whether one
 * failed (to print the app's output afterwards). `screenshot(name)` saves the current page.
 */
export function journey(screenshot) {
  let broken = null;
  const failed = () => broken !== null;
  const step = (name, fn) => {
    it(name, async (t) => {
      if (broken) {
        t.skip(`skipped after the failed step "${broken}"`);
        return;
      }
      try {
        await fn(t);
      } catch (error) {
        broken = name;
        try {
          await screenshot(`failed-${name}`);
        } catch {
          // No page to show.
        }
        throw error;
      }
    });
  };
  return { step, failed };
}
