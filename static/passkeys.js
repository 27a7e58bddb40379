// Passkey sign-in and registration. Every page that loads this also offers an email code,
// so anything that fails here says so and leaves that path open.
(() => {
  "use strict";

  const MESSAGES = {
    unsupported: "This browser does not support passkeys. Use an email code instead.",
    cancelled: "The passkey request was cancelled.",
    duplicate: "This device already has a passkey for your account.",
    network: "Could not reach the server. Check your connection and try again.",
    insecure: "Passkeys cannot be used on this address.",
    generic: "The passkey request failed. Please try again.",
  };

  // ---- Errors we raise ourselves, so they are not mistaken for WebAuthn DOMExceptions. ----

  class ServerError extends Error {
    /**
     * `link`: `{ href, text }`, a page the server names as the way on, or null. `reply`: the
     * whole JSON answer, for what else it says (an error `code` and its details).
     */
    constructor(message, link, reply) {
      super(message);
      this.link = link;
      this.reply = reply || {};
    }
  }
  class NetworkError extends Error {}

  // ---- Status line ----

  // The status element closest to what the user touched; there is one per page.
  function statusFor(element) {
    for (let node = element; node && node !== document; node = node.parentElement) {
      const found = node.querySelector("[data-passkey-status]");
      if (found) return found;
    }
    return document.querySelector("[data-passkey-status]");
  }

  function showStatus(element, message, isError = false, link = null) {
    const status = statusFor(element);
    if (!status) return;
    status.textContent = message;
    if (link) status.append(" ", anchor(link));
    status.classList.toggle("error", isError);
  }

  function anchor({ href, text }) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  // The recovery page's way out when this device already holds one of the account's passkeys:
  // signing in with it.
  function offerSignInInstead(shown) {
    const offer = document.querySelector("form[data-passkey-sign-in-instead]");
    if (offer) offer.hidden = !shown;
  }

  // Turns whatever went wrong into one sentence a person can act on.
  function describe(error, ceremony) {
    if (error instanceof ServerError) return error.message;
    if (error instanceof NetworkError) return MESSAGES.network;
    switch (error && error.name) {
      // Chrome and Safari use this for "user dismissed the dialog" and for timeouts alike.
      case "NotAllowedError":
      case "AbortError":
        return MESSAGES.cancelled;
      // Only registration raises this: one of excludeCredentials is on this authenticator.
      case "InvalidStateError":
        return ceremony === "register" ? MESSAGES.duplicate : MESSAGES.generic;
      case "SecurityError":
        return MESSAGES.insecure;
      default:
        return MESSAGES.generic;
    }
  }

  // ---- Server calls ----

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // POSTs JSON and returns the parsed reply; failures become ServerError/NetworkError.
  async function post(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRF-Token": csrfToken(),
        },
        body: JSON.stringify(body),
      });
    } catch {
      // fetch only rejects when no HTTP response came back at all.
      throw new NetworkError();
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const message = data && typeof data.error === "string" ? data.error : null;
      const link = typeof data?.link?.href === "string" && typeof data.link.text === "string" ? data.link : null;
      throw new ServerError(message || `Something went wrong (status ${response.status}). Please try again.`, link, data);
    }
    return data || {};
  }

  // ---- base64url <-> ArrayBuffer, for browsers without the JSON helpers ----

  function fromBase64url(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    // Chunked, because String.fromCharCode(...bigArray) can overflow the call stack.
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map((descriptor) => ({ ...descriptor, id: fromBase64url(descriptor.id) }));
  }

  // ---- Options: server JSON -> what navigator.credentials wants ----

  // The server sends `mediation` next to publicKey; it belongs to the get() call, not publicKey.
  function publicKeyJSON(reply) {
    const options = { ...reply.publicKey };
    delete options.mediation;
    return options;
  }

  function creationOptions(reply) {
    const json = publicKeyJSON(reply);
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: fromBase64url(json.challenge),
      user: { ...json.user, id: fromBase64url(json.user.id) },
      excludeCredentials: decodeDescriptors(json.excludeCredentials),
    };
  }

  function requestOptions(reply) {
    const json = publicKeyJSON(reply);
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: fromBase64url(json.challenge),
      allowCredentials: decodeDescriptors(json.allowCredentials),
    };
  }

  // ---- Credentials: browser objects -> JSON the server (webauthn-rs-proto) accepts ----

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
    if (response.attestationObject) {
      json.response = {
        attestationObject: toBase64url(response.attestationObject),
        clientDataJSON: toBase64url(response.clientDataJSON),
        transports: response.getTransports?.() || [],
      };
    } else {
      json.response = {
        authenticatorData: toBase64url(response.authenticatorData),
        clientDataJSON: toBase64url(response.clientDataJSON),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      };
    }
    return json;
  }

  // ---- Keeping the device in step (WebAuthn Signal API) ----

  // Tells the browser's passkey provider something it cannot know by itself. Feature-detected
  // one function at a time: a browser without it keeps offering what it has, as before. Nothing
  // is shown either way, since the provider may ignore it (another user, or a provider that
  // does not take part), and the page works the same.
  function sendSignal(name, details) {
    const send = window.PublicKeyCredential?.[name];
    if (typeof send !== "function") return;
    Promise.resolve()
      .then(() => send.call(PublicKeyCredential, details))
      .catch(() => {});
  }

  // The account page lists the account's passkeys and its current email and name: the device
  // may then hide the passkeys removed (here, on another device, or by a recovery) and show the
  // account under its new email or name.
  function signalAccount() {
    const account = document.querySelector("[data-passkey-signals]")?.dataset;
    if (!account) return;
    const { rpId, userId } = account;
    const accepted = account.acceptedCredentials ? account.acceptedCredentials.split(" ") : [];
    sendSignal("signalAllAcceptedCredentials", { rpId, userId, allAcceptedCredentialIds: accepted });
    sendSignal("signalCurrentUserDetails", { rpId, userId, name: account.userName, displayName: account.displayName });
  }

  // ---- Ceremonies ----

  async function register(form) {
    const options = creationOptions(await post("/passkeys/register/start", {}));
    const credential = await navigator.credentials.create({ publicKey: options });
    const name = form.querySelector("input[name=name]")?.value.trim();
    return post("/passkeys/register/finish", {
      credential: credentialJSON(credential),
      name: name || undefined, // left out when blank, so the server picks a default
      removeOthers: Boolean(form.querySelector("input[name=removeOthers]")?.checked),
      signOutOthers: Boolean(form.querySelector("input[name=signOutOthers]")?.checked),
    });
  }

  // One sign-in. With a signal it is the conditional kind: the browser offers passkeys in the
  // username autofill instead of opening a dialog, and the signal lets the button cancel it.
  async function signIn(signal) {
    const reply = await post("/passkeys/login/start", {});
    // Checked after the fetch on purpose: see cancelAutofill for why the fetch itself
    // is not aborted.
    signal?.throwIfAborted();
    const request = { publicKey: requestOptions(reply) };
    if (signal) Object.assign(request, { mediation: "conditional", signal });
    const credential = await navigator.credentials.get(request);
    try {
      return await post("/passkeys/login/finish", { credential: credentialJSON(credential) });
    } catch (error) {
      // A passkey the site no longer knows: the device need not offer it again.
      if (error instanceof ServerError && error.reply.code === "unknown-credential") {
        sendSignal("signalUnknownCredential", { rpId: reply.publicKey.rpId, credentialId: error.reply.credentialId });
      }
      throw error;
    }
  }

  function follow(reply) {
    if (reply && typeof reply.redirect === "string") {
      location.assign(reply.redirect);
      return true;
    }
    return false;
  }

  // ---- Autofill (conditional mediation) ----

  // The one conditional request that may be pending, so the button can cancel it.
  // Set synchronously, before any await, so two callers can never start two.
  let autofill = null; // { controller, done: Promise<boolean: navigating away> }

  function startAutofill() {
    const form = document.querySelector("form[data-passkey-autofill]");
    if (!form || autofill) return;
    const controller = new AbortController();
    const done = runAutofill(form, controller.signal).finally(() => {
      if (autofill && autofill.controller === controller) autofill = null;
    });
    autofill = { controller, done };
  }

  // If the browser can't even say whether autofill works, the button still does.
  async function autofillAvailable() {
    try {
      return (await PublicKeyCredential.isConditionalMediationAvailable?.()) === true;
    } catch {
      return false;
    }
  }

  async function runAutofill(form, signal) {
    if (!(await autofillAvailable())) return false;
    try {
      return follow(await signIn(signal));
    } catch (error) {
      // AbortError: the button took over. NotAllowedError: nothing was on screen, so the
      // user never asked for anything and a "cancelled" message would only confuse.
      if (error.name !== "AbortError" && error.name !== "NotAllowedError") {
        showStatus(form, describe(error, "login"), true);
      }
      return false;
    }
  }

  // The server keeps one pending ceremony per session, and the last start wins. So rather
  // than aborting the autofill's start request mid-flight (the server may still handle it,
  // after ours), let it finish, and only then start the modal ceremony.
  // Resolves true if the autofill already signed the user in and the page is leaving.
  async function cancelAutofill() {
    const pending = autofill;
    if (!pending) return false;
    pending.controller.abort();
    return pending.done;
  }

  // ---- Buttons ----

  // Runs one ceremony for a button: disabled meanwhile, status shown, redirect followed.
  async function run(button, ceremony, prompt, work) {
    button.disabled = true;
    showStatus(button, prompt);
    offerSignInInstead(false);
    let leaving = false;
    try {
      leaving = follow(await work());
      if (leaving) showStatus(button, "Done. One moment…");
    } catch (error) {
      showStatus(button, describe(error, ceremony), true, error instanceof ServerError ? error.link : null);
      if (ceremony === "register" && error?.name === "InvalidStateError") offerSignInInstead(true);
    } finally {
      // Stay disabled while the next page loads, so a second click can't start another.
      if (!leaving) button.disabled = false;
    }
    return leaving;
  }

  // The form's submit, so that Enter in the name field does what the button does. Its own POST
  // is only for browsers without this script.
  function onRegisterSubmit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[data-passkey-register]");
    if (!button || button.disabled) return;
    run(button, "register", "Follow your browser's prompt to create a passkey.", () => register(form));
  }

  async function onLoginClick(event) {
    const button = event.currentTarget;
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true; // before the await, so a double click doesn't run twice
    if (await cancelAutofill()) return; // the autofill got there first
    const leaving = await run(button, "login", "Follow your browser's prompt to use your passkey.", () => signIn());
    // Offer the autofill again after a cancelled or failed attempt.
    if (!leaving) startAutofill();
  }

  function passkeyButtons() {
    return document.querySelectorAll("button[data-passkey-register], button[data-passkey-login]");
  }

  function init() {
    signalAccount();
    const buttons = passkeyButtons();
    const autofillForm = document.querySelector("form[data-passkey-autofill]");

    if (!window.PublicKeyCredential || !navigator.credentials) {
      for (const button of buttons) {
        button.disabled = true;
        button.hidden = true;
      }
      const anchor = buttons[0] || autofillForm;
      if (anchor) showStatus(anchor, MESSAGES.unsupported, true);
      return;
    }

    for (const button of document.querySelectorAll("button[data-passkey-register]")) {
      button.form?.addEventListener("submit", onRegisterSubmit);
    }
    for (const button of document.querySelectorAll("button[data-passkey-login]")) {
      button.addEventListener("click", onLoginClick);
    }
    startAutofill();
  }

  init();
})();
