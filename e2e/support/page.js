// Reading and driving the app's pages in one browser tab: the helpers both journeys use.

import assert from "node:assert/strict";

/**
 * The helpers for the tab `currentPage()` returns (a function, since a test file opens its tab
 * in `before`), for the person called `name`:
 * - `mainText()`, `h1()`: the text of the page's main content and of its heading;
 * - `passkeyStatus()`: what the passkey script last wrote in the status line ("" if nothing);
 * - `clickTo(locator, path)`: clicks and waits until the browser has loaded `path`;
 * - `button(name)`: the main content's button of exactly that name;
 * - `assertAccountPage(email, { signOutButton })`: the account page shows this person, signed in
 *   (and, with `signOutButton`, offers a Sign out button).
 */
export function pageHelpers(currentPage, { name }) {
  /** The text of the page's main content. */
  async function mainText() {
    return currentPage().locator("main").innerText();
  }

  async function h1() {
    return (await currentPage().locator("main h1").innerText()).trim();
  }

  /** What the passkey script last wrote in the page's status line ("" if nothing). */
  async function passkeyStatus() {
    const status = currentPage().locator("main [data-passkey-status]");
    return (await status.count()) ? (await status.innerText()).trim() : "";
  }

  /** Clicks and waits until the browser has loaded `path`, saying where it is if it did not. */
  async function clickTo(locator, path) {
    const page = currentPage();
    await locator.click();
    try {
      await page.waitForURL((url) => url.pathname === path);
    } catch {
      const status = await passkeyStatus().catch(() => "");
      throw new Error(
        `expected to land on ${path}, but the browser is on ${page.url()}` +
          (status ? ` (passkey status: "${status}")` : "") +
          `:\n${await mainText()}`,
      );
    }
  }

  function button(buttonName) {
    return currentPage().locator("main").getByRole("button", { name: buttonName, exact: true });
  }

  /** Asserts the account page shows this person, signed in. */
  async function assertAccountPage(email, { signOutButton = false } = {}) {
    const page = currentPage();
    assert.equal(new URL(page.url()).pathname, "/account");
    assert.equal(await h1(), "Your account");
    const details = page.locator("main dl.details");
    assert.equal(await details.locator("dt:has-text('Name') + dd").innerText(), name);
    const shownEmail = await details.locator("dt:has-text('Email') + dd").innerText();
    assert.match(shownEmail, new RegExp(`^${email.replace(/\./g, "\\.")}\\s+verified$`));
    assert.equal(await page.locator("header nav a[href='/account']").innerText(), email, "the header names the account");
    if (signOutButton) {
      assert.ok(await page.locator("header").getByRole("button", { name: "Sign out" }).isVisible(), "a Sign out button");
    }
  }

  return { mainText, h1, passkeyStatus, clickTo, button, assertAccountPage };
}
