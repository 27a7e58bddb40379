// One person's journey through every email-code flow of the sample app, in a real browser:
// sign up, sign out, sign in without a password, change the email, and the notice to the old
// address in the development mailbox.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { codeFor, databaseBackend, latestMessage, startApp } from "../support/app.js";
import { journey } from "../support/steps.js";
import { launchBrowser, newPage, screenshotSeries } from "../support/browser.js";
import { pageHelpers } from "../support/page.js";

const shot = screenshotSeries("email-");

const OLD_EMAIL = "jane@example.com";
const NEW_EMAIL = "jane.doe@example.net";
const NAME = "Jane Doe";
/** A second person for the developer notes and sessions, with codes of their own to spend. */
const NOTES_EMAIL = "sam.notes@example.org";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n) => String(n).padStart(2, "0");

let app;
let browser;
let page;
/** The tabs of the later steps: one that signs up watching its notes, and a second device. */
let notesTab;
let otherDevice;

const { mainText, h1, clickTo, button, assertAccountPage } = pageHelpers(() => page, { name: NAME });

/** Asserts the page is the code page for `heading`, sent to `address` (as typed, or masked). */
async function assertCodePage(heading, address) {
  assert.equal(await h1(), heading);
  assert.equal(await page.locator("main strong.mailbox").innerText(), address);
  assert.match(await mainText(), new RegExp(`We sent a 6-digit code to ${address.replace(/[.*]/g, "\\$&")}`));
  assert.ok(await button("Continue").isVisible(), "a Continue button");
  assert.ok(await button("Send a new code").isVisible(), "a Send a new code button");
  assert.ok(await button("Cancel").isVisible(), "a Cancel button");
}

/** The developer notes panel's toggle button and its body, in `tab`. */
const notesToggle = (tab) => tab.locator("aside.dev-notes [data-dev-notes-toggle]");
const notesBody = (tab) => tab.locator("aside.dev-notes #dev-notes-body");

/** Asserts the notes panel of `tab` is open (or closed), its button saying so. */
async function assertNotesPanel(tab, open, why) {
  const toggle = notesToggle(tab);
  assert.ok(await toggle.isVisible(), "the page script shows the toggle");
  assert.equal(await toggle.getAttribute("aria-expanded"), String(open), `${why}: aria-expanded`);
  assert.equal((await toggle.innerText()).trim(), open ? "Hide" : "Show", `${why}: the button's word`);
  assert.equal(await notesBody(tab).isVisible(), open, `${why}: the panel's body`);
}

const { step, failed } = journey((name) => shot(page, name));

describe(`email-code flows (${databaseBackend()})`, () => {
  before(async () => {
    app = await startApp();
    browser = await launchBrowser();
    page = await newPage(browser, app.baseUrl);
  });

  after(async () => {
    if (failed() && app) console.error(`--- app output ---\n${app.logs()}`);
    await browser?.close();
    await app?.stop();
  });

  step("sign up with an emailed code", async () => {
    await page.goto("/signup");
    assert.equal(await h1(), "Create an account");
    assert.match(await mainText(), /We'll email you a code/);
    await page.getByLabel("Email").fill(OLD_EMAIL);
    await page.getByLabel("Name").fill(NAME);
    await shot(page, "signup-form");

    await clickTo(button("Send me a code"), "/verify");
    // Right after the form the address shows as typed, so that a typo can be seen.
    await assertCodePage("Confirm your email", OLD_EMAIL);
    await shot(page, "signup-code");
    await page.reload();
    await assertCodePage("Confirm your email", "j***@example.com");

    const code = await codeFor(page, OLD_EMAIL, { subject: "Confirm your email address for Mailbox challenges demo" });
    await page.getByLabel("Code").fill(code);
    await clickTo(button("Continue"), "/account");
    await assertAccountPage(OLD_EMAIL, { signOutButton: true });
    assert.match(await mainText(), new RegExp(`Welcome, ${NAME}\\. Your account is ready\\.`));
    await shot(page, "signup-account");
  });

  step("sign out", async () => {
    await clickTo(page.locator("header").getByRole("button", { name: "Sign out" }), "/");
    assert.match(await mainText(), /You are signed out\./);
    await shot(page, "home-signed-out");
    const nav = page.locator("header nav");
    assert.ok(await nav.getByRole("link", { name: "Sign in" }).isVisible(), "a Sign in link");
    assert.ok(await nav.getByRole("link", { name: "Sign up" }).isVisible(), "a Sign up link");
    assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0);

    await page.goto("/account");
    assert.equal(new URL(page.url()).pathname, "/login", "the account page needs a session");
  });

  step("sign in without a password, with the emailed code", async () => {
    await page.goto("/");
    await clickTo(page.locator("header nav").getByRole("link", { name: "Sign in" }), "/login");
    assert.equal(await h1(), "Sign in");
    await page.getByLabel("Email").fill(OLD_EMAIL);
    await shot(page, "login-form");

    await clickTo(button("Send me a code"), "/verify");
    await assertCodePage("Enter your sign-in code", OLD_EMAIL);
    await shot(page, "login-code");

    const code = await codeFor(page, OLD_EMAIL, { subject: "Your sign-in code for Mailbox challenges demo" });

    // A wrong code is refused and says how many tries are left.
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    await page.getByLabel("Code").fill(wrong);
    await button("Continue").click();
    const alert = page.locator("main p.error[role=alert]");
    await alert.waitFor();
    assert.match(await alert.innerText(), /^That code is not right\. 4 attempts left\.$/);
    assert.equal(await h1(), "Enter your sign-in code");
    assert.equal(new URL(page.url()).pathname, "/verify", "the code page is loaded with a GET");

    // A reload enters no code again: the error is gone and no attempt is spent.
    await page.reload();
    assert.equal(await alert.count(), 0, "the error shows once");

    // The code may be pasted in groups of three.
    const codeField = page.getByLabel("Code");
    for (const [typed, valid] of [["123 456", true], ["123-456", true], ["12345", false], ["1234567", false]]) {
      await codeField.fill(typed);
      assert.equal(await codeField.evaluate((input) => input.checkValidity()), valid, `"${typed}" is valid: ${!valid}`);
    }
    await codeField.fill(`${code.slice(0, 3)} ${code.slice(3)}`);
    await clickTo(button("Continue"), "/account");
    await assertAccountPage(OLD_EMAIL, { signOutButton: true });
    await shot(page, "login-account");
  });

  step("change the email with a code sent to the new address", async () => {
    await clickTo(page.locator("main").getByRole("link", { name: "Change your email" }), "/account/email");
    assert.equal(await h1(), "Change your email");
    assert.match(await mainText(), new RegExp(`Your email is ${OLD_EMAIL.replace(/\./g, "\\.")}\\.`));
    await page.getByLabel("New email").fill(NEW_EMAIL);
    await shot(page, "change-email-form");

    await clickTo(button("Send a code to the new address"), "/verify");
    await assertCodePage("Confirm your new email", NEW_EMAIL);
    await shot(page, "change-email-code");

    const code = await codeFor(page, NEW_EMAIL, {
      subject: "Confirm your new email address for Mailbox challenges demo",
    });
    await page.getByLabel("Code").fill(code);
    await clickTo(button("Continue"), "/account");
    assert.equal(await page.locator("main p.notice[role=status]").innerText(), "Your email address was changed.");
    await assertAccountPage(NEW_EMAIL, { signOutButton: true });
    await shot(page, "change-email-account");

    // The notice shows once.
    await page.reload();
    assert.equal(await page.locator("main p.notice").count(), 0, "the notice is gone after a reload");
  });

  step("the old address is told about the change", async () => {
    const notice = await latestMessage(page, OLD_EMAIL, { subject: "Your email address was changed" });
    assert.match(notice.text, new RegExp(`changed to ${NEW_EMAIL.replace(/\./g, "\\.")}`));
    assert.doesNotMatch(notice.text, /\b\d{6}\b/, "the notice carries no code");

    await page.goto("/dev/mailbox");
    assert.equal(await h1(), "Development mailbox");
    const toOld = page.locator(`main article.message[data-recipient="${OLD_EMAIL}"]`);
    assert.equal(await toOld.first().locator("h2").innerText(), "Your email address was changed");
    assert.equal(await toOld.first().locator(".recipient").innerText(), OLD_EMAIL);
    assert.deepEqual(
      await toOld.locator("h2").allInnerTexts(),
      [
        "Your email address was changed",
        "Your sign-in code for Mailbox challenges demo",
        "Confirm your email address for Mailbox challenges demo",
      ],
      "every email to the old address, newest first",
    );
    const toNew = page.locator(`main article.message[data-recipient="${NEW_EMAIL}"]`);
    assert.deepEqual(await toNew.locator("h2").allInnerTexts(), [
      "Confirm your new email address for Mailbox challenges demo",
    ]);
    await shot(page, "dev-mailbox");
  });

  // Every page a step shows is checked with axe and photographed (support/audit.js); this step
  // shows the ones no flow here needs, without changing anything.
  step("the other pages: signed-in home, deletion, Confirm it's you, notes, recovery, 404 and 429", async () => {
    await page.goto("/");
    assert.ok(await page.locator("header").getByRole("button", { name: "Sign out" }).isVisible(), "signed in");

    await page.goto("/account/delete");
    assert.equal(await h1(), `Delete the account of ${NEW_EMAIL}?`);
    await page.getByLabel("Type your email address to confirm").fill("someone.else@example.com");
    await button("Delete my account").click();
    await page.locator("main [role=alert]").waitFor();
    await shot(page, "delete-account-wrong-address");

    await page.goto("/reauth?for=add-passkey");
    assert.equal(await h1(), "Confirm it's you");
    assert.match(await mainText(), /To add a passkey, confirm it's you/);
    await clickTo(button("Cancel"), "/account");

    // The developer notes of this session, on a page of their own.
    assert.equal((await page.goto("/dev/notes")).status(), 200);

    // Signed out, in a tab of its own.
    const tab = await newPage(browser, app.baseUrl);
    try {
      await tab.goto("/recover");
      assert.equal((await tab.locator("main h1").innerText()).trim(), "Lost your passkey?");
      const missing = await tab.goto("/no-such-page");
      assert.equal(missing.status(), 404);
      assert.equal((await tab.locator("main h1").innerText()).trim(), "Page not found");
    } finally {
      await tab.context().close();
    }

    // The page of a throttled form, from an app that takes one form a minute.
    const throttled = await startApp({ APP_THROTTLE_PER_MINUTE: "1" });
    const other = await newPage(browser, throttled.baseUrl);
    try {
      const signUp = async () => {
        await other.goto("/signup");
        await other.getByLabel("Email").fill(OLD_EMAIL);
        await other.getByLabel("Name").fill(NAME);
        await other.locator("main").getByRole("button", { name: "Send me a code", exact: true }).click();
      };
      await signUp();
      await other.waitForURL((url) => url.pathname === "/verify");
      await signUp();
      await other.locator("main h1", { hasText: "Too many requests" }).waitFor();
      assert.equal(await other.getByLabel("Email").inputValue(), OLD_EMAIL, "the typed address is kept");
      await shot(other, "too-many-requests");
    } finally {
      await other.context().close();
      await throttled.stop();
    }
  });

  step("an expired code says so before a submit, and Cancel keeps the address", async () => {
    // A tab of its own, whose clock the test moves: the code lives 10 minutes.
    const tab = await newPage(browser, app.baseUrl);
    await tab.clock.install();
    await tab.goto("/login");
    await tab.getByLabel("Email").fill(NEW_EMAIL);
    await tab.locator("main").getByRole("button", { name: "Send me a code", exact: true }).click();
    await tab.waitForURL((url) => url.pathname === "/verify");
    const alert = tab.locator("main p.error[role=alert]");
    assert.equal(await alert.count(), 0, "a fresh code has not expired");

    await tab.clock.fastForward("10:01");
    assert.equal(await alert.innerText(), "This code has expired; send a new one.");
    await shot(tab, "code-expired");

    await tab.locator("main").getByRole("button", { name: "Cancel", exact: true }).click();
    await tab.waitForURL((url) => url.pathname === "/login");
    assert.equal(await tab.getByLabel("Email").inputValue(), NEW_EMAIL, "the login form keeps the address");
    await tab.context().close();
  });

  // The developer notes panel beside every page (development only), filled from /dev/notes.
  step("the developer notes panel: open on a wide window, closed on a narrow one, toggled and remembered", async () => {
    const wide = await newPage(browser, app.baseUrl, { viewport: { width: 1280, height: 800 } });
    const narrow = await newPage(browser, app.baseUrl, { viewport: { width: 390, height: 844 } });
    try {
      await wide.goto("/login");
      await assertNotesPanel(wide, true, "a wide window opens it at first");
      await notesToggle(wide).click();
      await assertNotesPanel(wide, false, "the button closes it");
      await wide.reload();
      await assertNotesPanel(wide, false, "closed stays closed after a reload, however wide the window");
      await notesToggle(wide).click();
      await assertNotesPanel(wide, true, "the button opens it again");
      await wide.reload();
      await assertNotesPanel(wide, true, "open is remembered too");

      await narrow.goto("/login");
      await assertNotesPanel(narrow, false, "a narrow window closes it at first");
      await notesToggle(narrow).click();
      await assertNotesPanel(narrow, true, "the button opens it");
      await narrow.reload();
      await assertNotesPanel(narrow, true, "open stays open after a reload, however narrow the window");
      await shot(narrow, "dev-notes-narrow-open");
    } finally {
      await wide.context().close();
      await narrow.context().close();
    }
  });

  step("the developer notes show the create and verify calls with ••• for the code, then the checks", async () => {
    notesTab = await newPage(browser, app.baseUrl, { viewport: { width: 1280, height: 800 } });
    await notesTab.goto("/signup");
    await notesTab.getByLabel("Email").fill(NOTES_EMAIL);
    await notesTab.getByLabel("Name").fill(NAME);
    await notesTab.locator("main").getByRole("button", { name: "Send me a code", exact: true }).click();
    await notesTab.waitForURL((url) => url.pathname === "/verify");
    const panel = notesBody(notesTab);
    await panel.locator(".dev-note h3", { hasText: "Create a challenge" }).first().waitFor();
    const code = await codeFor(notesTab, NOTES_EMAIL);

    const created = panel.locator(".dev-note", { has: notesTab.locator("h3", { hasText: "Create a challenge" }) }).first();
    const createdText = await created.innerText();
    assert.match(createdText, /POST \/[^\s]+\/challenges\b/, "the create call's method and path");
    assert.match(createdText, /"secret": "•••"/, "the secret is masked");
    assert.match(createdText, /"code": "•••"/, "the code is masked");
    const shown = await panel.innerText();
    assert.doesNotMatch(shown, new RegExp(`\\b${code}\\b`), "the panel never shows the mailed code");
    assert.doesNotMatch(await notesTab.content(), new RegExp(`\\b${code}\\b`), "nor does the page's HTML");
    await shot(notesTab, "dev-notes-created");

    await notesTab.getByLabel("Code").fill(code);
    await notesTab.locator("main").getByRole("button", { name: "Continue", exact: true }).click();
    await notesTab.waitForURL((url) => url.pathname === "/account");
    const checked = panel.locator(".dev-note", { has: notesTab.locator("h3", { hasText: "Check the verified challenge" }) });
    await checked.first().waitFor();
    const verified = panel.locator(".dev-note", { has: notesTab.locator("h3", { hasText: "Verify the code" }) }).first();
    assert.match(await verified.innerText(), /"code": "•••"/, "the typed code is masked in the verify call");
    const rows = checked.first().locator("table.checks tbody tr");
    const names = await rows.locator("th").allInnerTexts();
    assert.ok(names.includes("purpose") && names.includes("email"), `the checks made: ${names.join(", ")}`);
    for (const result of await rows.locator("td:last-child").allInnerTexts()) assert.equal(result, "✓ passed");
    assert.doesNotMatch(await panel.innerText(), new RegExp(`\\b${code}\\b`), "the panel never shows the typed code");
    const notesPage = await notesTab.request.get("/dev/notes");
    assert.doesNotMatch(await notesPage.text(), new RegExp(`\\b${code}\\b`), "nor does the notes page");
    await shot(notesTab, "dev-notes-verified");
  });

  step("two devices signed in: the account lists both, and signs out everywhere else", async () => {
    otherDevice = await newPage(browser, app.baseUrl);
    await otherDevice.goto("/login");
    await otherDevice.getByLabel("Email").fill(NOTES_EMAIL);
    await otherDevice.locator("main").getByRole("button", { name: "Send me a code", exact: true }).click();
    await otherDevice.waitForURL((url) => url.pathname === "/verify");
    await otherDevice.getByLabel("Code").fill(await codeFor(otherDevice, NOTES_EMAIL, { subject: "Your sign-in code for Mailbox challenges demo" }));
    await otherDevice.locator("main").getByRole("button", { name: "Continue", exact: true }).click();
    await otherDevice.waitForURL((url) => url.pathname === "/account");

    await notesTab.goto("/account");
    for (const tab of [notesTab, otherDevice]) {
      if (tab === otherDevice) await tab.reload();
      assert.equal(
        (await tab.locator("main h2", { hasText: "Where you're signed in" }).count()),
        1,
        "the account page has the sessions list",
      );
      const rows = tab.locator("main ul.sessions > li");
      assert.equal(await rows.count(), 2, "both devices are listed");
      assert.equal(await rows.first().locator(".badge", { hasText: "This device" }).count(), 1, "this one first, marked");
      assert.equal(await rows.nth(1).locator(".badge", { hasText: "This device" }).count(), 0, "the other is not");
      assert.match(await rows.nth(1).innerText(), /last seen/);
    }
    await shot(otherDevice, "sessions-two-devices");

    await otherDevice.locator("main").getByRole("button", { name: "Sign out everywhere else", exact: true }).click();
    await otherDevice.waitForURL((url) => url.pathname === "/account");
    assert.equal(
      await otherDevice.locator("main p.notice[role=status]").innerText(),
      "Signed out everywhere else (1 other session).",
    );
    assert.equal(await otherDevice.locator("main ul.sessions > li").count(), 1, "only this device is left");
    assert.equal(
      await otherDevice.locator("main").getByRole("button", { name: "Sign out everywhere else", exact: true }).count(),
      0,
      "no one else to sign out",
    );
    await shot(otherDevice, "sessions-signed-out-others");

    await notesTab.goto("/account");
    assert.equal(new URL(notesTab.url()).pathname, "/login", "the other device's next page is signed out");
    await notesTab.context().close();
  });

  step("times show in the viewer's time zone, with UTC on hover", async () => {
    const tokyo = await newPage(browser, app.baseUrl, { timezoneId: "Asia/Tokyo" });
    try {
      // Signed in as the other device is (the same session cookie).
      await tokyo.context().addCookies(await otherDevice.context().cookies());
      await tokyo.goto("/account");
      assert.equal(new URL(tokyo.url()).pathname, "/account", "signed in");
      const created = tokyo.locator("main dl.details dt:has-text('Created') + dd time[data-local]");
      const datetime = await created.getAttribute("datetime");
      const at = new Date(datetime);
      assert.ok(!Number.isNaN(at.getTime()), `a machine-readable time: ${datetime}`);
      const utcText = `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}, ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())} UTC`;
      assert.equal(await created.getAttribute("title"), utcText, "the UTC time on hover");
      const shownText = (await created.innerText()).replace(/\s+/g, " ").trim();
      assert.notEqual(shownText, utcText, "not the UTC text");
      const inTokyo = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Tokyo" });
      assert.equal(shownText, inTokyo.format(at).replace(/\s+/g, " "), "the time in Tokyo (UTC+09:00)");
      assert.ok(shownText.includes(`${pad((at.getUTCHours() + 9) % 24)}:${pad(at.getUTCMinutes())}`), "nine hours on");
      await shot(tokyo, "account-in-tokyo");
    } finally {
      await tokyo.context().close();
      await otherDevice.context().close();
    }
  });
});
