// Starts the sample app for a test file and reads the codes it mails to the development mailbox.

import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const e2eDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The app binary: `APP_BIN` (relative to the current folder), else the release build. */
export function appBinary() {
  return process.env.APP_BIN
    ? resolve(process.env.APP_BIN)
    : resolve(e2eDir, "../target/release/mailbox-challenges");
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

// Settings a developer's shell or CI may have that would point the app elsewhere (real SMTP, a
// remote challenge service, production mode). The app gets exact values instead.
const INHERITED_SETTINGS = [
  "APP_ENV",
  "APP_ADDR",
  "APP_BASE_URL",
  "APP_THROTTLE_PER_MINUTE",
  "CHALLENGE_API_ADDR",
  "DATABASE_URL",
  "PASSLOCK_ENDPOINT",
  "PASSLOCK_TENANCY_ID",
  "PASSLOCK_API_KEY",
  "SMTP_URL",
  "MAIL_FROM",
  "CHALLENGE_HASH_KEY",
  "SESSION_KEY",
];

/**
 * The PostgreSQL server the apps run on: `E2E_DATABASE_URL`, a `postgres://` URL of a role that
 * may create databases (the database it names is only connected to, to create and drop others).
 * Unset or empty, each app gets a SQLite file instead.
 */
export function postgresServer() {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) return null;
  if (!/^postgres(?:ql)?:\/\//.test(url)) {
    throw new Error(`E2E_DATABASE_URL must be a postgres:// URL of a server, not "${url}"`);
  }
  return url;
}

/** The database the apps run on, for test names: `SQLite` or `PostgreSQL`. */
export function databaseBackend() {
  return postgresServer() ? "PostgreSQL" : "SQLite";
}

const run = promisify(execFile);
let databasesCreated = 0;

/** Runs one of PostgreSQL's client programs (`PG_BIN`'s, else the one on the PATH). */
async function pgClient(program, args) {
  const path = process.env.PG_BIN ? join(process.env.PG_BIN, program) : program;
  try {
    await run(path, args, { timeout: 30_000 });
  } catch (error) {
    const why = error.code === "ENOENT" ? `${path} not found (install postgresql-client, or set PG_BIN)` : error.message;
    throw new Error(`${program} ${args.at(-1)} failed: ${why}`);
  }
}

/**
 * A new, empty database on `server`, named after this process so that runs sharing a server
 * never meet: `{ url, drop() }`.
 */
async function freshPostgresDatabase(server) {
  databasesCreated += 1;
  const name = `e2e_${process.pid}_${databasesCreated}_${randomBytes(3).toString("hex")}`;
  await pgClient("createdb", ["--maintenance-db", server, name]);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    // The app is stopped by then; `--force` ends any connection it left behind.
    drop: () => pgClient("dropdb", ["--force", "--if-exists", "--maintenance-db", server, name]).catch(() => {}),
  };
}

/**
 * Starts the app on a free port with a fresh database and waits until `GET /` answers. The
 * database is a SQLite file in a temporary folder, or with `E2E_DATABASE_URL` a new database on
 * that PostgreSQL server, dropped again by `stop()`. `extraEnv` overrides any setting. Call
 * `stop()` when done.
 */
export async function startApp(extraEnv = {}) {
  const bin = appBinary();
  if (!existsSync(bin)) {
    throw new Error(`no app binary at ${bin}: run \`cargo build --release\` first, or set APP_BIN`);
  }
  const server = "DATABASE_URL" in extraEnv ? null : postgresServer();
  const dir = await mkdtemp(join(tmpdir(), "e2e-"));
  let database = null;
  try {
    if (server) database = await freshPostgresDatabase(server);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const cleanUp = async () => {
    await rm(dir, { recursive: true, force: true });
    await database?.drop();
  };
  const port = await freePort();
  const baseUrl = `http://localhost:${port}`;

  const env = { ...process.env };
  for (const name of INHERITED_SETTINGS) delete env[name];
  Object.assign(env, {
    APP_ENV: "development",
    APP_ADDR: `127.0.0.1:${port}`,
    APP_BASE_URL: baseUrl,
    CHALLENGE_API_ADDR: "",
    DATABASE_URL: database ? database.url : `sqlite://${join(dir, "app.db")}`,
    APP_THROTTLE_PER_MINUTE: "1000",
    RUST_LOG: process.env.RUST_LOG ?? "warn",
    ...extraEnv,
  });

  // Started in the temporary folder so that no `.env` of the work tree is loaded.
  const child = spawn(bin, [], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  let exit = null;
  exited.then((result) => {
    exit = result;
  });

  const app = {
    baseUrl,
    port,
    dir,
    /** The app's recent stdout and stderr, for failure messages. */
    logs: () => output,
    async stop() {
      if (exit === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanUp();
    },
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exit !== null) {
      await cleanUp();
      throw new Error(`the app exited (${exit.code ?? exit.signal}) before answering:\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.ok) return app;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await app.stop();
      throw new Error(`the app did not answer GET / on ${baseUrl} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** Where the app runs, from a Playwright page, an app from `startApp`, or a URL. */
function originOf(source) {
  if (typeof source === "string") return new URL(source).origin;
  if (source && typeof source.url === "function") return new URL(source.url()).origin;
  if (source && typeof source.baseUrl === "string") return new URL(source.baseUrl).origin;
  throw new Error("codeFor needs a page, an app from startApp() or a base URL");
}

/**
 * Every message in the development mailbox, newest first, as
 * `{ recipient, subject, text }` with entities decoded.
 */
export async function mailbox(source) {
  const response = await fetch(`${originOf(source)}/dev/mailbox`);
  const page = await response.text();
  if (!response.ok) throw new Error(`GET /dev/mailbox answered ${response.status}`);
  const messages = [];
  // Attribute values are escaped, so an iframe's srcdoc can hold no literal `</article>`.
  for (const [, attributes, body] of page.matchAll(/<article\b([^>]*)>([\s\S]*?)<\/article>/g)) {
    if (!/\bclass="[^"]*\bmessage\b/.test(attributes)) continue;
    const recipient = /\bdata-recipient="([^"]*)"/.exec(attributes);
    const subject = /<h2\b[^>]*>([\s\S]*?)<\/h2>/.exec(body);
    const text = /<pre\b[^>]*\bclass="[^"]*\btext\b[^"]*"[^>]*>([\s\S]*?)<\/pre>/.exec(body);
    messages.push({
      recipient: recipient ? decodeEntities(recipient[1]) : "",
      subject: subject ? decodeEntities(subject[1]).trim() : "",
      text: text ? decodeEntities(text[1]) : "",
    });
  }
  return messages;
}

/** The newest message to `email` (optionally with this subject), waiting up to `timeoutMs`. */
export async function latestMessage(source, email, { subject, timeoutMs = 5_000 } = {}) {
  const wanted = email.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await mailbox(source);
    const newest = messages.find((m) => m.recipient.toLowerCase() === wanted);
    if (newest && (subject === undefined || newest.subject === subject)) return newest;
    if (Date.now() > deadline) {
      const seen = messages.map((m) => `  ${m.recipient}: ${m.subject}`).join("\n") || "  (none)";
      throw new Error(
        `no message to ${email}${subject ? ` with subject "${subject}"` : ""} in /dev/mailbox; it holds:\n${seen}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The 6-digit code in the newest message to `email` in the development mailbox. `source` is a
 * Playwright page on the app, an app from `startApp`, or the app's base URL.
 */
export async function codeFor(source, email, options = {}) {
  const message = await latestMessage(source, email, options);
  const code = /^\s*(\d{6})\s*$/m.exec(message.text) ?? /\b(\d{6})\b/.exec(message.text);
  if (!code) {
    throw new Error(`the newest message to ${email} ("${message.subject}") has no 6-digit code:\n${message.text}`);
  }
  return code[1];
}
