// Launches the system's Chromium (no browser downloads) and saves numbered screenshots.

import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { postgresServer } from "./app.js";
import { checkPage, fullPageShot, setPhotographer, watch } from "./audit.js";

/**
 * `screenshots/sqlite/`, or `screenshots/postgres/` when the apps run on PostgreSQL
 * (`E2E_DATABASE_URL`), so that a run on each database keeps its own shots.
 */
export const screenshotDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  postgresServer() ? "../screenshots/postgres" : "../screenshots/sqlite",
);

/** Headless Chromium from `CHROMIUM_PATH`, default Debian's `/usr/bin/chromium`. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}

/**
 * A fresh context (its own cookies) and page on `baseURL`, in light mode for stable screenshots.
 * Every page it shows is checked with axe and photographed in four variants (see `audit.js`).
 * `options` override the context's settings (a `viewport` for the first load, a `timezoneId`).
 */
export async function newPage(browser, baseURL, options = {}) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1024, height: 768 },
    colorScheme: "light",
    locale: "en-GB",
    ...options,
  });
  context.setDefaultTimeout(10_000);
  return watch(await context.newPage());
}

/**
 * A screenshot series for one test file: `screenshotSeries("passkeys-")` returns a
 * `shot(page, name)` that saves `screenshots/<database>/passkeys-NN-name.png`, after checking
 * the page as it is then (see `audit.js`). The page checks of the file are saved in the series
 * too, as `passkeys-<page>-<width>-<light|dark>.png`. The first shot of a series in a run
 * removes that series' old files (and only those), so test files run one after the other in
 * one `npm test` don't wipe each other's shots, and each series shows its latest run.
 */
export function screenshotSeries(prefix = "") {
  if (!/^(?:[a-z0-9]+(?:-[a-z0-9]+)*-)?$/.test(prefix)) {
    throw new Error(`a screenshot prefix is lowercase words joined and ended by "-", not "${prefix}"`);
  }
  // `NN-name.png` after the prefix: the bare series ("") never matches a prefixed file. Page
  // shots (`page-1280-dark.png`) are only the prefixed series': a bare name can't tell them apart.
  const steps = new RegExp(`^${prefix}\\d{2,}-[a-z0-9-]*\\.png$`);
  const pages = prefix ? new RegExp(`^${prefix}[a-z][a-z0-9-]*-\\d+-(?:light|dark)\\.png$`) : null;
  let cleared = null;
  const clear = () =>
    (cleared ??= (async () => {
      await mkdir(screenshotDir, { recursive: true });
      for (const file of await readdir(screenshotDir)) {
        if (steps.test(file) || pages?.test(file)) await rm(join(screenshotDir, file), { force: true });
      }
    })());
  let taken = 0;

  setPhotographer(async (name, png) => {
    await clear();
    await writeFile(join(screenshotDir, `${prefix}${name}`), png);
  });

  return async function shot(page, name) {
    await checkPage(page);
    await clear();
    taken += 1;
    const safe = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const path = join(screenshotDir, `${prefix}${String(taken).padStart(2, "0")}-${safe}.png`);
    await fullPageShot(page, { path });
    return path;
  };
}

/**
 * Saves a full-page screenshot as `screenshots/<database>/NN-name.png`, numbered in the order
 * taken (the unprefixed series). The first shot of a run removes the series' old `NN-name.png`
 * files, so they only ever show the latest run.
 */
export const shot = screenshotSeries("");
