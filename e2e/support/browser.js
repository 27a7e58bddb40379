// Launches the system's Chromium (no browser downloads) and saves numbered screenshots.

import { mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { postgresServer } from "./app.js";

/**
 * `screenshots/`, or `screenshots/postgres/` when the apps run on PostgreSQL
 * (`E2E_DATABASE_URL`), so that a run on each database keeps its own shots.
 */
export const screenshotDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  postgresServer() ? "../screenshots/postgres" : "../screenshots",
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

/** A fresh context (its own cookies) and page on `baseURL`, in light mode for stable screenshots. */
export async function newPage(browser, baseURL) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: 1024, height: 768 },
    colorScheme: "light",
    locale: "en-GB",
  });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

/**
 * A numbered screenshot series for one test file: `screenshotSeries("passkeys-")` returns a
 * `shot(page, name)` that saves `screenshots/passkeys-NN-name.png`. The first shot of a series
 * in a run removes that series' old files (and only those), so test files run one after the
 * other in one `npm test` don't wipe each other's shots, and each series shows its latest run.
 */
export function screenshotSeries(prefix = "") {
  if (!/^(?:[a-z0-9]+(?:-[a-z0-9]+)*-)?$/.test(prefix)) {
    throw new Error(`a screenshot prefix is lowercase words joined and ended by "-", not "${prefix}"`);
  }
  // `NN-name.png` after the prefix: the bare series ("") never matches a prefixed file.
  const ours = new RegExp(`^${prefix}\\d{2,}-[a-z0-9-]*\\.png$`);
  let taken = 0;

  return async function shot(page, name) {
    if (taken === 0) {
      await mkdir(screenshotDir, { recursive: true });
      for (const file of await readdir(screenshotDir)) {
        if (ours.test(file)) await rm(join(screenshotDir, file), { force: true });
      }
    }
    taken += 1;
    const safe = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const path = join(screenshotDir, `${prefix}${String(taken).padStart(2, "0")}-${safe}.png`);
    // Headless Chromium leaves iframes below the first screen blank in `fullPage` shots (it never
    // paints them), so the window is made as tall as the page for the shot instead.
    const viewport = page.viewportSize();
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    if (viewport && height > viewport.height) {
      await page.setViewportSize({ width: viewport.width, height });
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      try {
        await page.screenshot({ path, fullPage: true });
      } finally {
        await page.setViewportSize(viewport);
      }
    } else {
      await page.screenshot({ path, fullPage: true });
    }
    return path;
  };
}

/**
 * Saves a full-page screenshot as `screenshots/NN-name.png`, numbered in the order taken (the
 * unprefixed series, used by the email suite). The first shot of a run removes the series' old
 * `NN-name.png` files, so they only ever show the latest run.
 */
export const shot = screenshotSeries("");
