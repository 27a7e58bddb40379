// The steps of one journey: each needs the ones before it, so after a failure the rest are
// skipped (not failed again), and a screenshot shows where it broke. Each step also checks every
// page it showed with axe-core (see `audit.js`), and fails if one has a serious or critical
// violation; such a failure does not skip the rest, since the journey itself went on fine.
import { it } from "node:test";

import { checkWatchedPages, takeFindings } from "./audit.js";

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
        const { failures } = takeFindings();
        if (failures && error instanceof Error) error.message += `\n\nAlso, ${failures}`;
        throw error;
      }
      // The pages as the step leaves them, in case no navigation or screenshot showed them.
      await checkWatchedPages();
      const { checked, failures, notes } = takeFindings();
      if (checked.length) t.diagnostic(`axe and screenshots (1280/390 px, light/dark): ${checked.join(", ")}`);
      for (const note of notes) t.diagnostic(`axe, not failing: ${note.replace(/^- /, "")}`);
      if (failures) throw new Error(failures);
    });
  };
  return { step, failed };
}
