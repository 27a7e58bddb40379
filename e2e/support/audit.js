// Every page the journeys show, checked with axe-core and photographed in four variants: light
// and dark, 1280 and 390 px wide. Pages are re-rendered in place (colour scheme and window size
// changed, then put back), never reloaded or submitted again, so a check changes nothing the
// journey does next.

import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";

/** The four ways every page is checked and photographed, grouped by width to resize less. */
export const VARIANTS = [
  { width: 1280, height: 800, scheme: "light" },
  { width: 1280, height: 800, scheme: "dark" },
  { width: 390, height: 844, scheme: "light" },
  { width: 390, height: 844, scheme: "dark" },
];

/** The impacts that fail a step; axe's "moderate" and "minor" are reported but pass. */
const FAILING_IMPACTS = new Set(["serious", "critical"]);

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
let axeSource = null;

// What this test file's process has checked: for each page (path and HTTP status), the kinds
// of element shown in its header and main content; the kinds shown elsewhere (a panel beside
// the content, the footer), whatever the page; and the names given to the states checked.
const checkedPages = new Map();
const checkedElsewhere = new Set();
const namesTaken = new Set();
/** The HTTP status of the document each watched page shows (see `watch`). */
const statuses = new WeakMap();
/** Pages `watch` follows, to check at the end of each step. */
const watched = new Set();
/** Found since the last `takeFindings()`: page states checked, and problems. */
let newlyChecked = [];
let problems = [];

/** Where the page shots go: set by the screenshot series of the test file (see browser.js). */
let photographer = null;

/**
 * `save(fileName, png)` writes a page shot; `browser.js` sets it when a test file makes its
 * screenshot series. Without one, pages are checked but not photographed.
 */
export function setPhotographer(save) {
  photographer = save;
}

/** Waits until the browser has drawn the page as it is now. */
function settle(page) {
  return page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

/**
 * What a page shows: its path and HTTP status, and the visible kinds of element (tag,
 * classes, role and type, not their text) in its header and main content, and elsewhere. Also a
 * token of the document, to notice a navigation during a check.
 */
function describePage() {
  window.__e2eDocument ??= Math.random().toString(36).slice(2);
  const inPage = new Set();
  const elsewhere = new Set();
  for (const element of document.body.querySelectorAll("*")) {
    if (!element.checkVisibility({ visibilityProperty: true })) continue;
    let kind = element.localName;
    for (const name of [...element.classList].sort()) kind += `.${name}`;
    for (const attribute of ["role", "type"]) {
      const value = element.getAttribute(attribute);
      if (value) kind += `[${attribute}=${value}]`;
    }
    (element.closest("main, header") ? inPage : elsewhere).add(kind);
  }
  return {
    document: window.__e2eDocument,
    path: location.pathname,
    status: performance.getEntriesByType("navigation")[0]?.responseStatus ?? 0,
    inPage: [...inPage],
    elsewhere: [...elsewhere],
    dark: matchMedia("(prefers-color-scheme: dark)").matches,
  };
}

/** Runs axe on the page's document: every violation, with the elements it concerns. */
async function runAxe() {
  const results = await window.axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    targets: violation.nodes.map((node) => ({
      target: node.target.map((part) => (Array.isArray(part) ? part.join(" >>> ") : part)).join(" >>> "),
      why: node.failureSummary?.split("\n").slice(1).join(" ").trim() ?? "",
    })),
  }));
}

/** A file name's part: `/` is `home`, `/account/email` is `account-email`, `p.error` is `p-error`. */
function slug(text) {
  if (text === "/") return "home";
  return text
    .toLowerCase()
    .replace(/\/\d+(?=\/|$)/g, "/id")
    .replace(/\[[a-z]+=|\]/g, "-")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** A name no other state of this run has: `login`, `login-2`. */
function freshName(wanted) {
  let name = wanted;
  for (let n = 2; namesTaken.has(name); n++) name = `${wanted}-${n}`;
  namesTaken.add(name);
  return name;
}

/** Whether `error` comes from the page going elsewhere (or closing) during a check. */
function isNavigation(error) {
  return /Execution context was destroyed|navigat|Target (page, context or browser )?(has been )?closed|frame was detached/i.test(
    String(error?.message ?? error),
  );
}

/** A full-page shot. Headless Chromium leaves iframes below the first screen blank in `fullPage`
 * shots (it never paints them), so the window is made as tall as the page for the shot. */
export async function fullPageShot(page, options = {}) {
  const viewport = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (viewport && height > viewport.height) {
    await page.setViewportSize({ width: viewport.width, height });
    await settle(page);
    try {
      return await page.screenshot({ ...options, fullPage: true });
    } finally {
      await page.setViewportSize(viewport);
    }
  }
  return page.screenshot({ ...options, fullPage: true });
}

/**
 * Checks the page as it is now with axe in the four variants and photographs it in each, unless
 * this test file checked it before (the same path and status) and it shows no kind of element
 * it did not show then (see `describePage`). `name` names it in file names (default: from its
 * path and status, `account-delete-400`, and for a later state the first new kind of element,
 * `verify-with-p-error-alert`). The page is left as it was: same size, same colour scheme.
 * Never throws: problems are kept for the step to report (see `takeFindings`); a page that
 * navigates meanwhile is simply checked later.
 */
export async function checkPage(page, { name } = {}) {
  if (page.isClosed()) return;
  let before;
  try {
    before = await page.evaluate(describePage);
  } catch (error) {
    if (!isNavigation(error)) problems.push({ url: page.url(), error: `could not read the page: ${error.message}` });
    return;
  }
  // Checked again only when it shows a kind of element that was not there when it was checked
  // (an error, a notice, a list), not for other words in the same places.
  // The page's own timing says its status, unless a test replaced its clock (and `performance`).
  const status = before.status || statuses.get(page) || 0;
  const key = `${before.path} ${status}`;
  const seen = checkedPages.get(key);
  const newInPage = before.inPage.filter((kind) => !seen?.has(kind));
  const newElsewhere = before.elsewhere.filter((kind) => !checkedElsewhere.has(kind));
  if (seen && newInPage.length === 0 && newElsewhere.length === 0) return;

  const url = page.url();
  const viewport = page.viewportSize();
  const found = [];
  const shots = [];
  try {
    axeSource ??= await readFile(axePath, "utf8");
    // Evaluated rather than added as a <script>: the app's Content-Security-Policy allows no
    // inline script, and the DevTools protocol is not bound by it.
    if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
    for (const variant of VARIANTS) {
      await page.setViewportSize({ width: variant.width, height: variant.height });
      await page.emulateMedia({ colorScheme: variant.scheme });
      await settle(page);
      for (const violation of await page.evaluate(runAxe)) found.push({ ...violation, variant });
      if (photographer) shots.push({ variant, png: await fullPageShot(page) });
    }
  } catch (error) {
    if (!isNavigation(error)) problems.push({ url, error: `axe could not check the page: ${error.stack ?? error}` });
    return;
  } finally {
    if (!page.isClosed()) {
      try {
        if (viewport) await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: before.dark ? "dark" : "light" });
      } catch (error) {
        if (!isNavigation(error)) problems.push({ url, error: `could not restore the page: ${error.message}` });
      }
    }
  }
  // A page that went elsewhere meanwhile (a passkey signing in by itself) was not all checked.
  try {
    const after = await page.evaluate(() => window.__e2eDocument);
    if (after !== before.document) return;
  } catch {
    return;
  }

  const pageName = `${slug(before.path)}${status === 200 ? "" : `-${status}`}`;
  const stateName = freshName(name ?? (seen ? `${pageName}-with-${slug(newInPage[0] ?? newElsewhere[0])}` : pageName));
  checkedPages.set(key, new Set([...(seen ?? []), ...before.inPage]));
  for (const kind of before.elsewhere) checkedElsewhere.add(kind);
  newlyChecked.push(`${stateName} (${new URL(url).pathname})`);
  for (const { variant, png } of shots) {
    await photographer(`${stateName}-${variant.width}-${variant.scheme}.png`, png);
  }
  for (const violation of found) {
    problems.push({ url, name: stateName, ...violation });
  }
}

/**
 * Follows `page`: each `goto`, `reload`, `goBack`, `goForward` and `waitForURL` checks the page
 * it ends on (see `checkPage`), and `checkWatchedPages` checks it until it closes.
 */
export function watch(page) {
  for (const method of ["goto", "reload", "goBack", "goForward", "waitForURL"]) {
    const original = page[method].bind(page);
    page[method] = async (...args) => {
      const result = await original(...args);
      await checkPage(page);
      return result;
    };
  }
  page.on("response", (response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) {
      statuses.set(page, response.status());
    }
  });
  watched.add(page);
  page.on("close", () => watched.delete(page));
  return page;
}

/** Checks every page still open that `watch` follows, as they are now. */
export async function checkWatchedPages() {
  for (const page of [...watched]) await checkPage(page);
}

/**
 * What was found since the last call: `checked`, the names of the page states checked;
 * `failures`, a report of each serious or critical violation (rule, impact, page, variants and
 * the elements concerned) and of pages axe could not check, or "" if none; `notes`, a line for
 * each moderate or minor violation, which does not fail.
 */
export function takeFindings() {
  const found = problems;
  const states = newlyChecked;
  problems = [];
  newlyChecked = [];
  // One entry per rule and page state, with the variants it was found in.
  const grouped = new Map();
  for (const problem of found) {
    const key = problem.error ? `${problem.url} ${problem.error}` : `${problem.name} ${problem.id}`;
    const entry = grouped.get(key) ?? { ...problem, variants: [], targets: new Map() };
    if (!problem.error) {
      entry.variants.push(`${problem.variant.width} px ${problem.variant.scheme}`);
      for (const { target, why } of problem.targets) if (!entry.targets.has(target)) entry.targets.set(target, why);
    }
    grouped.set(key, entry);
  }
  const describe = (entry) => {
    if (entry.error) return `- ${entry.url}: ${entry.error}`;
    const targets = [...entry.targets].map(([target, why]) => `\n    ${target}${why ? `: ${why}` : ""}`).join("");
    return `- ${entry.id} (${entry.impact}) on ${entry.name} ${entry.url} at ${entry.variants.join(", ")}: ${entry.help}${targets}`;
  };
  const entries = [...grouped.values()];
  const failing = entries.filter((entry) => entry.error || FAILING_IMPACTS.has(entry.impact));
  const minor = entries.filter((entry) => !entry.error && !FAILING_IMPACTS.has(entry.impact));
  return {
    checked: states,
    failures: failing.length
      ? `axe-core found ${failing.length} serious or critical problem(s):\n${failing.map(describe).join("\n")}`
      : "",
    notes: minor.map(describe),
  };
}
