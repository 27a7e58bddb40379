// One person's journey through the passkey flows, in a real browser with Chromium's virtual
// authenticator (DevTools Protocol, no hardware): sign up and add a passkey, sign in with it
// without typing an email, lose the device, recover the account with an emailed code and a new
// passkey, recover again on the device that has it (and sign in with it instead), find the lost
// passkey refused afterwards (and the browser told to forget it), add a passkey named by its
// provider, and remove one after a confirmation. The page's WebAuthn Signal API calls are
// recorded, and the pages are shown once more in a browser without that API.

import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { codeFor, databaseBackend, latestMessage, startApp } from "../support/app.js";
import { journey } from "../support/steps.js";
import { launchBrowser, newPage, screenshotSeries } from "../support/browser.js";
import { pageHelpers } from "../support/page.js";

const shot = screenshotSeries("passkeys-");

const EMAIL = "sam@example.org";
const NAME = "Sam Passkey";
const FIRST_PASSKEY = "Sam's old phone";
const NEW_PASSKEY = "Sam's new laptop";

let app;
let browser;
let page;
/** The DevTools session of `page`, where the virtual authenticators live. */
let cdp;

// What each step leaves for the next ones.
let authenticatorId = null;
let oldCredential = null;
/** The credential of the passkey the recovery made, as the authenticator held it. */
let newCredential = null;
/** Another browser signed in to the account when it is recovered. */
let otherDevice = null;

const { mainText, h1, passkeyStatus, clickTo, button, assertAccountPage } = pageHelpers(() => page, { name: NAME });

async function signOut() {
  await clickTo(page.locator("header").getByRole("button", { name: "Sign out" }), "/");
  assert.ok(await page.locator("header nav").getByRole("link", { name: "Sign in" }).isVisible(), "signed out");
}

/** A platform authenticator with user verification that says yes by itself, in `session`'s tab. */
async function addAuthenticator(session = cdp) {
  const { authenticatorId: id } = await session.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return id;
}

/** Puts the lost passkey's credential, kept from the first device, on authenticator `id`. */
async function addLostCredential(session, id) {
  const { credentialId, privateKey, userHandle, signCount } = oldCredential;
  await session.send("WebAuthn.addCredential", {
    authenticatorId: id,
    credential: { credentialId, isResidentCredential: true, rpId: "localhost", privateKey, userHandle, signCount },
  });
}

async function credentialsOn(id) {
  return (await cdp.send("WebAuthn.getCredentials", { authenticatorId: id })).credentials;
}

/**
 * Chromium's virtual authenticator answers a conditional (autofill) request by itself, so the
 * login page's autofill would sign in on load, before any click. To test the button, the page
 * loads while the authenticator is "untouched": the autofill request then waits, as it does
 * for a person who ignores the dropdown, and stays waiting after presence is simulated again.
 * The click then cancels it and starts the modal request, as in a browser.
 */
async function openLoginWithAutofillWaiting() {
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: false });
  try {
    await page.goto("/login");
    await page.waitForFunction(() =>
      window.e2eWebauthnGets?.some((call) => call.mediation === "conditional" && call.outcome === "pending"),
    );
  } finally {
    await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: true });
  }
}

/** Counts the requests to `/passkeys/login/start` from now on. */
function countLoginStarts() {
  const counter = { count: 0 };
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/passkeys/login/start") counter.count += 1;
  });
  return counter;
}

/**
 * The passkeys listed on the account page, as `{ name, meta, added, lastUsed }`: the meta line's
 * text, and its moments as the epoch ms of their `<time datetime>` (`lastUsed` null for never).
 */
async function listedPasskeys() {
  const rows = page.locator("main ul.passkeys > li");
  const found = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    const moments = await row.locator(".meta time").evaluateAll((times) => times.map((t) => Date.parse(t.dateTime)));
    found.push({
      name: (await row.locator(".name").innerText()).trim(),
      meta: (await row.locator(".meta").innerText()).trim(),
      added: moments[0],
      lastUsed: moments[1] ?? null,
    });
  }
  return found;
}

/** Asserts `ms` (a moment the app wrote to the second) is between `from` and `to`. */
function assertBetween(ms, from, to, what) {
  assert.ok(ms >= from - (from % 1000) && ms <= to, `${what}: ${new Date(ms).toISOString()} is not between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
}

/** A credential id or user handle as the DevTools Protocol gives it (base64), as WebAuthn's JSON writes it. */
function base64url(base64) {
  return Buffer.from(base64, "base64").toString("base64url");
}

/**
 * The WebAuthn Signal API calls of the page so far, `{ name, details }`, waiting until one named
 * `name` was made (recorded by the init script in `before`).
 */
async function signalsUntil(name) {
  try {
    await page.waitForFunction((wanted) => window.e2eSignals?.some((call) => call.name === wanted), name);
  } catch {
    const made = await page.evaluate(() => window.e2eSignals ?? []);
    throw new Error(`no ${name} on ${page.url()}; made: ${JSON.stringify(made)}`);
  }
  return page.evaluate(() => window.e2eSignals);
}

/** The last call of `name` among `calls`. */
function lastCall(calls, name) {
  return calls.filter((call) => call.name === name).at(-1);
}

/** The day as the app writes it in a default passkey name: `1 January 2026` (UTC). */
function appDay(ms) {
  const at = new Date(ms);
  return `${at.getUTCDate()} ${at.toLocaleString("en-GB", { month: "long", timeZone: "UTC" })} ${at.getUTCFullYear()}`;
}

/** Signs in with a code sent by email, from the login page to the account page. */
async function signInByEmail(tab) {
  await tab.goto("/login");
  await tab.getByLabel("Email").fill(EMAIL);
  await tab.locator("main").getByRole("button", { name: "Send me a code", exact: true }).click();
  await tab.waitForURL((url) => url.pathname === "/verify");
  await tab.getByLabel("Code").fill(await codeFor(tab, EMAIL, { subject: "Your sign-in code for Mailbox challenges demo" }));
  await tab.locator("main").getByRole("button", { name: "Continue", exact: true }).click();
  await tab.waitForURL((url) => url.pathname === "/account");
}

const { step, failed } = journey((name) => shot(page, name));

describe(`passkey flows (${databaseBackend()})`, () => {
  before(async () => {
    app = await startApp();
    browser = await launchBrowser();
    page = await newPage(browser, app.baseUrl);
    // Records each navigator.credentials.get() call and how it ended, passing it through
    // untouched, so that a test can wait until the autofill request is pending.
    await page.addInitScript(() => {
      const calls = (window.e2eWebauthnGets = []);
      if (!navigator.credentials?.get) return;
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (options) => {
        const call = { mediation: options?.mediation ?? "optional", outcome: "pending" };
        calls.push(call);
        const result = get(options);
        result.then(
          () => (call.outcome = "credential"),
          (error) => (call.outcome = error?.name ?? "error"),
        );
        return result;
      };
    });
    // Records the page's WebAuthn Signal API calls instead of making them (Chromium has the
    // API, and would pass them to the virtual authenticator), present or not in this Chromium.
    await page.addInitScript(() => {
      const calls = (window.e2eSignals = []);
      if (!window.PublicKeyCredential) return;
      for (const name of ["signalUnknownCredential", "signalAllAcceptedCredentials", "signalCurrentUserDetails"]) {
        PublicKeyCredential[name] = async (details) => {
          calls.push({ name, details: JSON.parse(JSON.stringify(details)) });
        };
      }
    });
    cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    authenticatorId = await addAuthenticator();
  });

  after(async () => {
    if (failed() && app) console.error(`--- app output ---\n${app.logs()}`);
    await browser?.close();
    await app?.stop();
  });

  step("sign up, then add a passkey from the account page", async () => {
    await page.goto("/signup");
    await page.getByLabel("Email").fill(EMAIL);
    await page.getByLabel("Name").fill(NAME);
    await clickTo(button("Send me a code"), "/verify");
    const code = await codeFor(page, EMAIL, { subject: "Confirm your email address for Mailbox challenges demo" });
    await page.getByLabel("Code").fill(code);
    await clickTo(button("Continue"), "/account");
    await assertAccountPage(EMAIL);

    // No passkey yet: the page invites to add one.
    assert.equal(await page.locator("main ul.passkeys").count(), 0, "no passkey list yet");
    assert.match(await page.locator("main .invite").innerText(), /^Add a passkey to sign in with your fingerprint/);
    await shot(page, "account-invites-to-add-a-passkey");

    // Enter in the name field does what the button does (the recovery step clicks its button).
    await page.getByLabel("Name for the new passkey").fill(FIRST_PASSKEY);
    const added = Date.now();
    await page.getByLabel("Name for the new passkey").press("Enter");
    // The script reloads /account when the server has the passkey: the same URL, so wait for
    // the notice the new page carries (the page before it shows the welcome after sign-up).
    const notice = page.locator("main p.notice[role=status]", { hasText: "Your passkey was added" });
    try {
      await notice.waitFor();
    } catch {
      throw new Error(`no notice after Enter in the name field; on ${page.url()}, passkey status: "${await passkeyStatus()}"`);
    }
    assert.equal(new URL(page.url()).search, "", "the name never goes into the URL");
    assert.equal(await notice.innerText(), "Your passkey was added. You can use it to sign in next time.");
    await assertAccountPage(EMAIL);
    assert.equal(await page.locator("main .invite").count(), 0, "no invitation once there is a passkey");
    const listed = await listedPasskeys();
    assert.equal(listed.length, 1, "one passkey listed");
    assert.equal(listed[0].name, FIRST_PASSKEY);
    assertBetween(listed[0].added, added, Date.now(), "added");
    assert.match(listed[0].meta, /^· added [^·]+ · last used never$/, "added once, never used");
    await shot(page, "account-with-passkey");

    // A discoverable credential for this site, whose user handle is an opaque id, not the email.
    const credentials = await credentialsOn(authenticatorId);
    assert.equal(credentials.length, 1, "one credential on the authenticator");
    const [credential] = credentials;
    assert.equal(credential.isResidentCredential, true, "a resident (discoverable) credential");
    assert.equal(credential.rpId, "localhost");
    const handle = Buffer.from(credential.userHandle, "base64");
    assert.equal(handle.length, 16, `the user handle is 16 bytes (a UUID), not ${handle.length}`);
    assert.ok(handle[6] >> 4 === 4 && handle[8] >> 6 === 2, `a random (v4) UUID, not ${handle.toString("hex")}`);
    assert.notEqual(handle.toString("utf8"), EMAIL, "the user handle is not the email");
    assert.equal(credential.userName, EMAIL, "the email is only the credential's user name, shown when picking a passkey");
  });

  step("sign in with the passkey button, without typing an email", async () => {
    await signOut();
    const starts = countLoginStarts();
    await openLoginWithAutofillWaiting();
    assert.equal(await h1(), "Sign in");
    assert.equal(await page.getByLabel("Email").inputValue(), "", "no email typed");
    assert.equal(await page.getByLabel("Email").getAttribute("autocomplete"), "username webauthn");
    await shot(page, "login-page");

    const before = Date.now();
    await clickTo(button("Sign in with a passkey"), "/account");
    assert.equal(starts.count, 2, "the autofill's sign-in and the button's: the button signed in");
    await assertAccountPage(EMAIL);
    const listed = await listedPasskeys();
    assert.equal(listed.length, 1);
    assertBetween(listed[0].lastUsed, before, Date.now(), "last used");
    await shot(page, "signed-in-with-passkey");

    const [credential] = await credentialsOn(authenticatorId);
    assert.ok(credential.signCount >= 1, "the authenticator counted the sign-in");
  });

  step("sign in with the passkey offered in the email field's autofill", async () => {
    // The virtual authenticator picks its one passkey from the autofill by itself; headless
    // Chromium has no dropdown to click, so this covers the page's part: the conditional
    // request made on load, and signing in with what it returns.
    await signOut();
    const starts = countLoginStarts();
    await page.goto("/login");
    try {
      await page.waitForURL((url) => url.pathname === "/account");
    } catch {
      throw new Error(`the autofill did not sign in; on ${page.url()}, passkey status: "${await passkeyStatus()}"`);
    }
    assert.equal(starts.count, 1, "one sign-in, the autofill's, with no click");
    await assertAccountPage(EMAIL);
  });

  step("lose the device, then recover the account with an emailed code", async () => {
    // Kept to try again in the last step: the private key never leaves a real device, but the
    // virtual one can hand it over.
    [oldCredential] = await credentialsOn(authenticatorId);
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    authenticatorId = null;
    await signOut();

    // Still signed in elsewhere, with an email code: recovery will sign that browser out.
    otherDevice = await newPage(browser, app.baseUrl);
    await otherDevice.goto("/login");
    await otherDevice.getByLabel("Email").fill(EMAIL);
    await otherDevice.getByRole("button", { name: "Send me a code", exact: true }).click();
    await otherDevice.waitForURL((url) => url.pathname === "/verify");
    const signInCode = await codeFor(otherDevice, EMAIL, { subject: "Your sign-in code for Mailbox challenges demo" });
    await otherDevice.getByLabel("Code").fill(signInCode);
    await otherDevice.getByRole("button", { name: "Continue", exact: true }).click();
    await otherDevice.waitForURL((url) => url.pathname === "/account");

    await clickTo(page.locator("header nav").getByRole("link", { name: "Sign in" }), "/login");
    await clickTo(page.locator("main").getByRole("link", { name: "Lost your passkey?" }), "/recover");
    assert.equal(await h1(), "Lost your passkey?");
    await page.getByLabel("Email").fill(EMAIL);
    await clickTo(button("Send me a code"), "/verify");
    assert.equal(await h1(), "Enter your recovery code");
    assert.equal(await page.locator("main strong.mailbox").innerText(), EMAIL, "the address as typed");
    await shot(page, "recovery-code");

    const code = await codeFor(page, EMAIL, { subject: "Recover your account for Mailbox challenges demo" });
    await page.getByLabel("Code").fill(code);
    await clickTo(button("Continue"), "/recover/passkey");
    assert.equal(await h1(), "Set up a new passkey");
    assert.match(await mainText(), /This page works for \d+ more minutes\./);
    const listed = await page.locator("main ul.passkeys > li").allInnerTexts();
    assert.equal(listed.length, 1, "the account's one passkey is listed");
    assert.match(listed[0], new RegExp(`^${FIRST_PASSKEY} · added `));
    assert.ok(await page.getByLabel("Remove all my existing passkeys", { exact: false }).isChecked());
    assert.ok(await page.getByLabel("Sign out everywhere else").isChecked());
    assert.equal(await page.locator("header nav a[href='/account']").count(), 0, "not signed in yet");
    await shot(page, "recovery-new-passkey");

    // The recovery session can do nothing else.
    await page.goto("/account");
    assert.equal(new URL(page.url()).pathname, "/recover/passkey", "the account page is out of reach");
  });

  step("a new passkey on a new device signs in and replaces the old one", async () => {
    authenticatorId = await addAuthenticator();
    await page.getByLabel("Name for the new passkey").fill(NEW_PASSKEY);
    await clickTo(button("Create a passkey"), "/account");
    assert.equal(
      await page.locator("main p.notice[role=status]").innerText(),
      "Your new passkey is ready and you are signed in.",
    );
    await assertAccountPage(EMAIL);
    const listed = await listedPasskeys();
    assert.deepEqual(
      listed.map((p) => p.name),
      [NEW_PASSKEY],
      "only the new passkey: the old one was removed",
    );
    await shot(page, "recovered-account");

    [newCredential] = await credentialsOn(authenticatorId);
    assert.equal(newCredential.isResidentCredential, true);
    assert.equal(newCredential.userHandle, oldCredential.userHandle, "the same account");
    assert.notEqual(newCredential.credentialId, oldCredential.credentialId, "a new credential");

    // The device is told which of the account's passkeys remain: the old one is gone.
    const signals = await signalsUntil("signalAllAcceptedCredentials");
    assert.deepEqual(lastCall(signals, "signalAllAcceptedCredentials").details, {
      rpId: "localhost",
      userId: base64url(newCredential.userHandle),
      allAcceptedCredentialIds: [base64url(newCredential.credentialId)],
    });

    // "Sign out everywhere else" was ticked: the other browser's session is gone.
    await otherDevice.goto("/account");
    assert.equal(new URL(otherDevice.url()).pathname, "/login", "the other browser was signed out");
    await otherDevice.context().close();
    otherDevice = null;

    const notice = await latestMessage(page, EMAIL, { subject: "A passkey was added to your account" });
    assert.match(notice.text, /after a code sent to this address was used to recover the account/);
    assert.doesNotMatch(notice.text, /\b\d{6}\b/, "the notice carries no code");
  });

  step("recovering on a device that holds the account's passkey offers to sign in with it", async () => {
    await signOut();
    // Straight to /recover: on the login page this device's passkey would sign in by itself.
    await page.goto("/recover");
    await page.getByLabel("Email").fill(EMAIL);
    await clickTo(button("Send me a code"), "/verify");
    await page.getByLabel("Code").fill(
      await codeFor(page, EMAIL, { subject: "Recover your account for Mailbox challenges demo" }),
    );
    await clickTo(button("Continue"), "/recover/passkey");
    const signInWithIt = button("Sign in with it");
    assert.equal(await signInWithIt.count(), 0, "not offered before the device turns out to hold a passkey");

    // The browser refuses a second passkey for the account here (InvalidStateError).
    await button("Create a passkey").click();
    const status = page.locator("main [data-passkey-status].error");
    await status.waitFor();
    assert.equal(await status.innerText(), "This device already has a passkey for your account.");
    await signInWithIt.waitFor();
    await shot(page, "recovery-device-has-a-passkey");

    // The login page's autofill then signs in with it by itself, as in the autofill step.
    await signInWithIt.click();
    await page.waitForURL((url) => url.pathname === "/account");
    await assertAccountPage(EMAIL);
    assert.deepEqual((await listedPasskeys()).map((p) => p.name), [NEW_PASSKEY], "nothing added or removed");
  });

  step("the lost passkey is refused", async () => {
    await signOut();
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    // A device holding only the old credential, as if the lost phone turned up again.
    authenticatorId = await addAuthenticator();
    await addLostCredential(cdp, authenticatorId);

    const starts = countLoginStarts();
    await openLoginWithAutofillWaiting();
    await button("Sign in with a passkey").click();
    const status = page.locator("main [data-passkey-status].error");
    try {
      await status.waitFor();
    } catch {
      throw new Error(`no error shown; the browser is on ${page.url()}, status: "${await passkeyStatus()}"`);
    }
    assert.ok(starts.count >= 2, "the button's sign-in was refused, not only the autofill's");
    assert.equal(
      await status.innerText(),
      "This passkey is not registered here. Sign in with an email code instead.",
    );
    assert.equal(new URL(page.url()).pathname, "/login", "still on the login page");
    assert.ok(await button("Sign in with a passkey").isEnabled(), "the button can be used again");
    assert.equal(await page.locator("header nav a[href='/account']").count(), 0, "not signed in");
    await shot(page, "old-passkey-refused");

    // The browser is told the site no longer knows it, so it can stop offering it.
    const unknown = (await signalsUntil("signalUnknownCredential")).filter((c) => c.name === "signalUnknownCredential");
    for (const call of unknown) {
      assert.deepEqual(call.details, { rpId: "localhost", credentialId: base64url(oldCredential.credentialId) });
    }
  });

  step("a passkey added without a name is named by its provider and the day", async () => {
    // Chromium's virtual authenticator reports an AAGUID no list of providers has (or none), so
    // the name falls back to "Passkey" and the day; the provider table itself is unit-tested.
    await signInByEmail(page);
    const signals = await signalsUntil("signalCurrentUserDetails");
    assert.deepEqual(lastCall(signals, "signalCurrentUserDetails").details, {
      rpId: "localhost",
      userId: base64url(newCredential.userHandle),
      name: EMAIL,
      displayName: NAME,
    });
    const before = Date.now();
    await button("Add a passkey").click();
    await page.locator("main p.notice[role=status]", { hasText: "Your passkey was added" }).waitFor();
    const listed = await listedPasskeys();
    const days = new Set([appDay(before), appDay(Date.now())]);
    const added = listed.find((p) => p.name.startsWith("Passkey, "));
    assert.ok(added && days.has(added.name.slice("Passkey, ".length)), `a default name for ${[...days]}: ${JSON.stringify(listed)}`);
    assert.match(added.meta, /^· added [^·]+ · last used never$/, "no provider shown, and added only once");
    assert.deepEqual(listed.map((p) => p.name), [NEW_PASSKEY, added.name]);
    await shot(page, "account-with-default-named-passkey");
  });

  step("removing a passkey asks first, then tells the device which passkeys remain", async () => {
    const [, added] = await listedPasskeys();
    const row = page.locator("main ul.passkeys > li", { hasText: added.name });
    assert.equal(await row.getByRole("textbox", { name: `New name for ${added.name}` }).inputValue(), added.name);
    assert.ok(await row.getByRole("button", { name: `Rename ${added.name}`, exact: true }).isVisible());
    const remove = row.getByRole("link", { name: `Remove ${added.name}`, exact: true });
    const confirmation = new URL(await remove.getAttribute("href"), page.url()).pathname;
    await clickTo(remove, confirmation);
    assert.equal(await h1(), `Remove “${added.name}”?`);
    assert.match(await mainText(), /This passkey will no longer sign in to your account\./);
    await shot(page, "remove-passkey-confirmation");

    // Cancel changes nothing; the page's button removes it.
    await clickTo(page.locator("main").getByRole("link", { name: "Cancel", exact: true }), "/account");
    assert.equal((await listedPasskeys()).length, 2, "Cancel removed nothing");
    await clickTo(remove, confirmation);
    await clickTo(button(`Remove “${added.name}”`), "/account");
    assert.equal(
      await page.locator("main p.notice[role=status]").innerText(),
      "Passkey removed. It can no longer sign in to your account.",
    );
    assert.deepEqual((await listedPasskeys()).map((p) => p.name), [NEW_PASSKEY]);
    const signals = await signalsUntil("signalAllAcceptedCredentials");
    assert.deepEqual(lastCall(signals, "signalAllAcceptedCredentials").details, {
      rpId: "localhost",
      userId: base64url(newCredential.userHandle),
      allAcceptedCredentialIds: [base64url(newCredential.credentialId)],
    });
  });

  step("without the Signal API in the browser, nothing fails", async () => {
    // A browser whose WebAuthn has no signal functions, as before Chromium 132 or in Firefox.
    const tab = await newPage(browser, app.baseUrl);
    const errors = [];
    tab.on("pageerror", (error) => errors.push(error.message));
    tab.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    await tab.addInitScript(() => {
      for (const name of ["signalUnknownCredential", "signalAllAcceptedCredentials", "signalCurrentUserDetails"]) {
        delete PublicKeyCredential[name];
      }
    });
    const tabCdp = await tab.context().newCDPSession(tab);
    try {
      // The account page, which would signal on load, in the session signed in above (another
      // code to the same address this soon would have to wait).
      await tab.context().addCookies(await page.context().cookies());
      await tab.goto("/account");
      assert.equal(await tab.evaluate(() => typeof PublicKeyCredential.signalAllAcceptedCredentials), "undefined");
      assert.equal(await tab.locator("main ul.passkeys > li").count(), 1);
      await tab.context().clearCookies();

      // A sign-in with the lost passkey, which would signal it unknown: the autofill uses it.
      await tabCdp.send("WebAuthn.enable");
      await addLostCredential(tabCdp, await addAuthenticator(tabCdp));
      await tab.goto("/login");
      const status = tab.locator("main [data-passkey-status].error");
      await status.waitFor();
      assert.equal(await status.innerText(), "This passkey is not registered here. Sign in with an email code instead.");
      assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], "no script error");
    } finally {
      await tab.context().close();
    }
  });
});
