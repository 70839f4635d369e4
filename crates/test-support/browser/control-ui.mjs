// Drives OpenClaw's real Control UI (served by the gateway under test) in Debian's Chromium with
// playwright-core, and reports what happened as one JSON line on stdout (prefixed `CONTROL_UI_REPORT `).
//
// Used by tests/e2e/control_ui_browser.rs (mode "test") and crates/bench (mode "bench"). It asserts
// nothing itself: it records facts (every RPC the page sent, per view, with its answer; every WebSocket
// close code; whether each UI check reached its expected DOM state within its bound) and the callers
// decide. Every wait is bounded and on state (a locator, a DOM predicate, or "no RPC in flight").
//
//   node control-ui.mjs '<json options>'
//   options: { base, token, out, playwright, chromium, mode: "test"|"bench", chat: bool,
//              chatSkipReason?, views: [{ name, path, element }], runs? }

import { pathToFileURL } from "node:url";
import fs from "node:fs";
import path from "node:path";

const opts = JSON.parse(process.argv[2] ?? "{}");
const { chromium } = await import(pathToFileURL(path.join(opts.playwright, "index.mjs")).href);

const VIEW_BOUND = 30_000; // a view's element and its RPCs
const QUIET_MS = 750; // "no RPC in flight for this long" ends a view's settling
const CHAT_BOUND = 90_000; // a chat turn on a loaded 2-core machine

const report = {
  gateway: opts.gateway ?? "?",
  base: opts.base,
  connected: false,
  views: [],
  checks: {},
  closes: [],
  pageErrors: [],
  rpc: { load: null, total: 0 },
  bench: null,
};

function emit() {
  process.stdout.write("CONTROL_UI_REPORT " + JSON.stringify(report) + "\n");
}

// Wraps the page's WebSocket so close codes are recorded (playwright's own close event has no code).
const RECORD_CLOSES = () => {
  const Orig = window.WebSocket;
  window.__ocSockets = [];
  window.__ocCloses = [];
  window.WebSocket = class extends Orig {
    constructor(...args) {
      super(...args);
      window.__ocSockets.push(this);
      this.addEventListener("close", (e) =>
        window.__ocCloses.push({ url: this.url, code: e.code, wasClean: e.wasClean, reason: e.reason }),
      );
    }
  };
};

/** A page with every RPC recorded: method, the view it was sent from, and its answer. */
async function openPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript(RECORD_CLOSES);
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept().catch(() => {}));
  const state = {
    view: "load",
    pending: new Map(),
    calls: [],
    sentBytes: 0,
    receivedBytes: 0,
    events: [],
    lastActivity: Date.now(),
  };
  page.on("pageerror", (e) => report.pageErrors.push({ view: state.view, error: String(e).slice(0, 300) }));
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => {
      state.sentBytes += Buffer.byteLength(typeof f.payload === "string" ? f.payload : "");
      state.lastActivity = Date.now();
      let frame;
      try {
        frame = JSON.parse(f.payload);
      } catch {
        return;
      }
      if (frame.type === "req") {
        const call = { id: frame.id, method: frame.method, view: state.view, sentAt: Date.now(), answered: false };
        state.pending.set(frame.id, call);
        state.calls.push(call);
      }
    });
    ws.on("framereceived", (f) => {
      state.receivedBytes += Buffer.byteLength(typeof f.payload === "string" ? f.payload : "");
      state.lastActivity = Date.now();
      let frame;
      try {
        frame = JSON.parse(f.payload);
      } catch {
        return;
      }
      if (frame.type === "res") {
        const call = state.pending.get(frame.id);
        if (!call) return;
        state.pending.delete(frame.id);
        call.answered = true;
        call.ok = frame.ok === true;
        call.ms = Date.now() - call.sentAt;
        if (!call.ok) call.error = { code: frame.error?.code, message: String(frame.error?.message ?? "").slice(0, 200) };
      } else if (frame.type === "event") {
        state.events.push({ at: Date.now(), event: frame.event, payload: frame.payload });
      }
    });
  });
  return { context, page, state };
}

/** Waits (bounded) until no RPC has been in flight for QUIET_MS. */
async function settle(page, state, bound = VIEW_BOUND) {
  const until = Date.now() + bound;
  while (Date.now() < until) {
    if (state.pending.size === 0 && Date.now() - state.lastActivity >= QUIET_MS) return true;
    // Polling the recorder's state, not a fixed sleep: the loop ends on state or on the bound.
    await page.waitForTimeout(100);
  }
  return false;
}

async function go(page, route) {
  await page.evaluate((r) => {
    history.pushState({}, "", r);
    dispatchEvent(new PopStateEvent("popstate"));
  }, route);
}

/** One entry per method and answer (the UI retries some calls). */
function unique(errors) {
  const seen = new Set();
  return errors.filter((e) => {
    const key = `${e.method}\u0000${e.code}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function refusal(call) {
  if (!call.error) return false;
  const m = call.error.message ?? "";
  return /unknown method/i.test(m) || /missing scope/i.test(m);
}

async function check(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    report.checks[name] = { ok: true, ms: Date.now() - started, detail: detail ?? "" };
  } catch (e) {
    report.checks[name] = { ok: false, ms: Date.now() - started, detail: String(e?.message ?? e).split("\n")[0].slice(0, 300) };
  }
}

async function connect(page, state) {
  const resp = await page.goto(`${opts.base}/#token=${encodeURIComponent(opts.token)}`);
  const status = resp?.status() ?? 0;
  if (status >= 400 || status === 0) {
    const body = resp ? (await resp.text().catch(() => "")).replace(/\s+/g, " ").slice(0, 200) : "";
    return `GET ${opts.base}/ answered HTTP ${status} (is the Control UI served?): ${body}`;
  }
  // Connected: a `connect` RPC answered ok (the UI may retry after a first refusal).
  const until = Date.now() + VIEW_BOUND;
  while (Date.now() < until) {
    if (state.calls.some((x) => x.method === "connect" && x.ok)) return null;
    await page.waitForTimeout(50);
  }
  const refused = state.calls.filter((x) => x.method === "connect" && x.answered);
  return refused.length
    ? `connect refused: ${JSON.stringify(refused[refused.length - 1].error)}`
    : `no answered connect within the bound; / shows: ${((await page.textContent("body").catch(() => "")) ?? "")
        .replace(/\s+/g, " ")
        .slice(0, 160)}`;
}

async function runTest(browser) {
  fs.mkdirSync(opts.out, { recursive: true });
  const { context, page, state } = await openPage(browser);
  const err = await connect(page, state);
  report.connected = err === null;
  if (err) {
    report.error = err;
    await page.screenshot({ path: path.join(opts.out, "connect.png") }).catch(() => {});
    return;
  }
  await settle(page, state);
  const loadCalls = state.calls.slice();
  report.rpc.load = { count: loadCalls.length, methods: [...new Set(loadCalls.map((c) => c.method))].sort() };

  for (const view of opts.views) {
    state.view = view.name;
    const before = state.calls.length;
    const started = Date.now();
    await go(page, view.path);
    let ready = true;
    let note = "";
    try {
      await page.locator(view.element).first().waitFor({ state: "attached", timeout: VIEW_BOUND });
    } catch {
      ready = false;
      note = `<${view.element}> not rendered within ${VIEW_BOUND} ms`;
    }
    const quiet = await settle(page, state);
    if (!quiet) note += (note ? "; " : "") + `RPCs still in flight after ${VIEW_BOUND} ms`;
    const calls = state.calls.slice(before);
    const screenshot = path.join(opts.out, `${view.name}.png`);
    await page.screenshot({ path: screenshot }).catch((e) => (note += `; screenshot failed: ${e}`));
    report.views.push({
      name: view.name,
      path: view.path,
      url: page.url().replace(opts.base, ""),
      ready,
      ms: Date.now() - started,
      note,
      methods: [...new Set(calls.map((c) => c.method))].sort(),
      refusals: unique(calls.filter(refusal).map((c) => ({ method: c.method, ...c.error }))),
      errors: unique(calls.filter((c) => c.error && !refusal(c)).map((c) => ({ method: c.method, ...c.error }))),
      unanswered: calls.filter((c) => !c.answered).map((c) => c.method),
      screenshot,
    });
  }
  // Answers that arrived for calls sent before the views loop or late: refusals on load count too.
  report.loadRefusals = unique(loadCalls.filter(refusal).map((c) => ({ method: c.method, ...c.error })));

  // Chat: `echo hello` through the composer; the embedded runtime's model `exec` runs it.
  state.view = "chat";
  await go(page, "/chat");
  const composer = page.getByRole("textbox", { name: "Chat composer" });
  if (opts.chat) {
    await check("chat", async () => {
      await composer.waitFor({ state: "visible", timeout: VIEW_BOUND });
      await composer.fill("echo hello");
      await composer.press("Enter");
      await page
        .locator("openclaw-chat-page")
        .getByText("hello", { exact: true })
        .first()
        .waitFor({ state: "visible", timeout: CHAT_BOUND });
      await settle(page, state);
      // Once each on screen: the UI reconciles its optimistic and streamed copies with the messages it
      // reads back (`chat.history`, `session.message`) by their transcript identity.
      const transcript = page.locator("openclaw-chat-page");
      // Shown on screen: visible, and not the screen-reader announcement of the last message.
      const shown = (locator) =>
        locator
          .filter({ visible: true })
          .evaluateAll((els) => els.filter((e) => !e.closest(".sr-only")).length);
      const counts = async () => ({
        sent: await shown(transcript.getByText("echo hello", { exact: true })),
        reply: await shown(transcript.getByText("hello", { exact: true })),
        // Identical consecutive messages are folded into one with a `×N` badge.
        folded: await shown(transcript.getByText(/^×\d+$/)),
      });
      const until = Date.now() + VIEW_BOUND;
      let seen = await counts();
      while ((seen.sent !== 1 || seen.reply !== 1 || seen.folded !== 0) && Date.now() < until) {
        // Polling the DOM, not a fixed sleep: the loop ends on state or on the bound.
        await page.waitForTimeout(100);
        seen = await counts();
      }
      if (seen.sent !== 1 || seen.reply !== 1 || seen.folded !== 0) {
        throw new Error(
          `the transcript shows \`echo hello\` ${seen.sent} time(s) and \`hello\` ${seen.reply} time(s) (${seen.folded} folded \`×N\` repeat(s)), expected once each`,
        );
      }
      return "the transcript shows `echo hello` and `hello` once each";
    });
    await page.screenshot({ path: path.join(opts.out, "chat-turn.png") }).catch(() => {});
    await check("sessions", async () => {
      state.view = "sessions";
      await go(page, "/sessions");
      const sessionsPage = page.locator("openclaw-sessions-page");
      await sessionsPage.waitFor({ state: "attached", timeout: VIEW_BOUND });
      await sessionsPage.getByText(/echo hello|main/i).first().waitFor({ state: "visible", timeout: VIEW_BOUND });
      await settle(page, state);
      return "the Sessions view lists the chatted session";
    });
    await page.screenshot({ path: path.join(opts.out, "sessions-after-chat.png") }).catch(() => {});
  } else {
    report.checks.chat = { skipped: opts.chatSkipReason ?? "chat disabled" };
    report.checks.sessions = { skipped: "needs the chat turn" };
    await check("composer", async () => {
      await composer.waitFor({ state: "visible", timeout: VIEW_BOUND });
      return "the chat composer renders";
    });
  }

  // Config editor: the schema form renders, and the raw editor saves a hot change (logging.level).
  await check("config", async () => {
    state.view = "config";
    await go(page, "/settings/advanced");
    const cfgPage = page.locator("openclaw-config-page");
    await cfgPage.waitFor({ state: "attached", timeout: VIEW_BOUND });
    await page.getByRole("button", { name: "Raw", exact: true }).waitFor({ state: "visible", timeout: VIEW_BOUND });
    await settle(page, state);
    if ((await page.getByText("Schema unavailable").count()) > 0) throw new Error("the page says Schema unavailable");
    await page.getByRole("button", { name: "Raw", exact: true }).click();
    const raw = page.getByPlaceholder("Raw config (JSON/JSON5)");
    // A config holding a secret (our test config has gateway.auth.token) opens the raw editor
    // redacted; the UI asks for its reveal toggle before the text can be edited.
    const hidden = page.getByText(/sensitive values? hidden/);
    await raw.or(hidden).first().waitFor({ state: "visible", timeout: VIEW_BOUND });
    if (await hidden.isVisible()) {
      await page.getByRole("button", { name: /Toggle raw config redaction|Reveal sensitive values/ }).first().click({ timeout: VIEW_BOUND });
    }
    await raw.waitFor({ state: "visible", timeout: VIEW_BOUND });
    const text = await raw.inputValue();
    let cfg;
    try {
      cfg = text.trim() === "" ? {} : JSON.parse(text);
    } catch (e) {
      throw new Error(`the raw editor's text is not JSON: ${String(e).slice(0, 100)}`);
    }
    const level = cfg?.logging?.level === "debug" ? "info" : "debug";
    cfg.logging = { ...(cfg.logging ?? {}), level };
    await raw.fill(JSON.stringify(cfg, null, 2));
    const before = state.calls.length;
    await page.getByRole("button", { name: "Save", exact: true }).click({ timeout: VIEW_BOUND });
    const until = Date.now() + VIEW_BOUND;
    let saved;
    while (Date.now() < until && !saved) {
      saved = state.calls
        .slice(before)
        .find((c) => /^config\.(set|apply|patch)$/.test(c.method) && c.answered);
      if (!saved) await page.waitForTimeout(50);
    }
    if (!saved) throw new Error("no config.set/apply/patch answered after Save");
    if (!saved.ok) throw new Error(`${saved.method} refused: ${JSON.stringify(saved.error)}`);
    report.checks.configLevel = level;
    await settle(page, state);
    return `saved logging.level=${level} with ${saved.method}`;
  });
  await page.screenshot({ path: path.join(opts.out, "config-saved.png") }).catch(() => {});

  await check("devices", async () => {
    state.view = "devices";
    await go(page, "/settings/devices");
    const devices = page.locator("openclaw-devices-page");
    await devices.waitFor({ state: "attached", timeout: VIEW_BOUND });
    await devices.getByText("openclaw-control-ui").first().waitFor({ state: "visible", timeout: VIEW_BOUND });
    return "Devices lists the browser's device (openclaw-control-ui)";
  });

  await check("logs", async () => {
    state.view = "logs";
    await go(page, "/logs");
    const logs = page.locator("openclaw-logs-page");
    await logs.waitFor({ state: "attached", timeout: VIEW_BOUND });
    const row = await page.waitForFunction(
      () => {
        const root = document.querySelector("openclaw-logs-page");
        if (!root) return null;
        const time = /^\d{1,2}:\d{2}(:\d{2})?(\s?[AP]M)?$/;
        const level = /^(trace|debug|info|warn|error|fatal)$/i;
        for (const el of root.querySelectorAll("*")) {
          if (el.children.length > 0 || !time.test(el.textContent.trim())) continue;
          for (let row = el.parentElement; row && row !== root; row = row.parentElement) {
            const lv = [...row.querySelectorAll("*")].find(
              (x) => x.children.length === 0 && level.test(x.textContent.trim()) && !x.closest("label"),
            );
            if (lv) return `${el.textContent.trim()} ${lv.textContent.trim()}`;
          }
        }
        return null;
      },
      null,
      { timeout: VIEW_BOUND, polling: 100 },
    );
    return `a log row: ${await row.jsonValue()}`;
  });
  await page.screenshot({ path: path.join(opts.out, "logs-rows.png") }).catch(() => {});

  report.rpc.total = state.calls.length;
  report.unanswered = state.calls.filter((c) => !c.answered).map((c) => c.method);

  // Close every socket the page still has open, from the page, and read every close it saw.
  await page.evaluate(() => {
    for (const ws of window.__ocSockets) if (ws.readyState === WebSocket.OPEN) ws.close(1000, "test done");
  });
  await page
    .waitForFunction(() => window.__ocSockets.every((ws) => ws.readyState === WebSocket.CLOSED), null, {
      timeout: VIEW_BOUND,
      polling: 50,
    })
    .catch(() => report.pageErrors.push({ view: "close", error: "sockets did not close within the bound" }));
  report.closes = await page.evaluate(() => window.__ocCloses);
  await context.close();
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
}

async function runBench(browser) {
  const runs = opts.runs ?? 5;
  const ready = [];
  const shell = [];
  let composerNote = "";
  let load = null;
  for (let i = 0; i < runs; i++) {
    const { context, page, state } = await openPage(browser);
    const t0 = Date.now();
    const resp = await page.goto(`${opts.base}/#token=${encodeURIComponent(opts.token)}`);
    if (!resp || resp.status() >= 400) {
      throw new Error(`GET / answered HTTP ${resp?.status() ?? 0}: the Control UI is not served`);
    }
    // The app shell: connected, and a page of the app rendered (chat, or Model Setup on a gateway
    // without a model).
    try {
      await page.waitForFunction(
        () => [...document.querySelectorAll("*")].some((e) => /^openclaw-.*-page$/.test(e.localName)),
        null,
        { timeout: VIEW_BOUND, polling: 10 },
      );
    } catch {
      const body = (await page.textContent("body").catch(() => "")) ?? "";
      throw new Error(
        `no page of the Control UI rendered within ${VIEW_BOUND} ms; / shows: ${body.replace(/\s+/g, " ").slice(0, 120)}`,
      );
    }
    while (!state.calls.some((c) => c.method === "connect" && c.ok)) {
      if (Date.now() - t0 > VIEW_BOUND) throw new Error("no ok connect: the page did not connect");
      await page.waitForTimeout(10);
    }
    shell.push(Date.now() - t0);
    if (!composerNote) {
      const composer = page.getByRole("textbox", { name: "Chat composer" });
      try {
        await composer.waitFor({ state: "visible", timeout: VIEW_BOUND });
        ready.push(Date.now() - t0);
      } catch {
        composerNote = `the chat composer did not render within ${VIEW_BOUND} ms (a gateway without a model opens Model Setup)`;
      }
    }
    if (i === 0) {
      await settle(page, state);
      load = {
        rpcs: state.calls.length,
        sentBytes: state.sentBytes,
        receivedBytes: state.receivedBytes,
        refused: state.calls.filter((c) => c.error).length,
      };
    }
    await context.close();
  }
  let firstDeltaMs = null;
  let deltaNote = opts.chat ? "" : (opts.chatSkipReason ?? "chat disabled");
  if (opts.chat) {
    const { context, page, state } = await openPage(browser);
    await page.goto(`${opts.base}/#token=${encodeURIComponent(opts.token)}`);
    const composer = page.getByRole("textbox", { name: "Chat composer" });
    await composer.waitFor({ state: "visible", timeout: VIEW_BOUND });
    await settle(page, state);
    await composer.fill("echo bench");
    const before = state.calls.length;
    await composer.press("Enter");
    const until = Date.now() + CHAT_BOUND;
    while (Date.now() < until && firstDeltaMs === null) {
      const send = state.calls.slice(before).find((c) => c.method === "chat.send");
      if (send) {
        const delta = state.events.find(
          (e) => e.at >= send.sentAt && e.event === "chat" && e.payload?.state === "delta",
        );
        if (delta) firstDeltaMs = delta.at - send.sentAt;
      }
      if (firstDeltaMs === null) await page.waitForTimeout(10);
    }
    if (firstDeltaMs === null) deltaNote = "no chat delta event within the bound";
    await context.close();
  }
  report.connected = true;
  report.bench = {
    composerReadyMs: ready,
    composerReadyMedianMs: median(ready),
    composerNote,
    shellReadyMs: shell,
    shellReadyMedianMs: median(shell),
    load,
    firstDeltaMs,
    deltaNote,
  };
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: opts.chromium ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  if (opts.mode === "bench") await runBench(browser);
  else await runTest(browser);
} catch (e) {
  report.error = String(e?.stack ?? e).slice(0, 2000);
} finally {
  await browser?.close().catch(() => {});
  emit();
}
