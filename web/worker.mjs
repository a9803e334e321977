// The executor worker: Python (Pyodide) that holds the executor's key and talks to the server.
// Functions run in slot workers (slot.mjs) that this worker owns; they never see the key.
// Messages to the page are events (wasm_executor/events.py) plus, before Python runs,
// {type: "progress", value, text}, {type: "ready"} once Python and the wheel are loaded, and {type: "fatal", message}.
import { bootPython, errorText, takeSnapshot } from "./pyodide-boot.mjs";
import { post as netPost } from "./net.mjs";
import { workerURL } from "./trusted.mjs";
import * as keystore from "./keystore.mjs";

const post = (msg) => self.postMessage(msg);
const SLOT_URL = workerURL("./slot.mjs", import.meta.url);
let panelSource = "";  // the Functions panel's code every slot serves, fresh ones included
let packageIndex = "";  // the owner's package index for `requires`, told to every slot
let distribution = "";  // the owner's Pyodide distribution URL: slots boot with its lock (pyodide-boot.mjs)
// The snapshot slots boot from (pyodide-boot.mjs): this worker's Python, taken as it booted, or
// the one kept from an earlier visit. null: none, slots boot in full.
let haveSnapshot;
const slotSnapshot = new Promise((resolve) => { haveSnapshot = resolve; });

class Slot {
  constructor(index) {
    this.index = index;
    this.worker = new Worker(SLOT_URL, { type: "module", name: `slot-${index}` });
    // Without cross-origin isolation there is no SharedArrayBuffer: a stuck slot is terminated instead.
    this.interrupt = self.crossOriginIsolated ? new Uint8Array(new SharedArrayBuffer(1)) : null;
    this.pending = new Map();
    this.nextId = 1;
    this.ready = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    this.ready.catch(() => {});  // awaited by run(); a failed boot is reported there
    this.worker.onmessage = ({ data }) => {
      if (data.type === "ready") {
        if (index === 0) for (const note of JSON.parse(data.info).notes) post({ type: "log", message: note });
        this.settle.resolve(data.info);
      }
      else if (data.type === "failed") this.fail(new Error(`slot ${index} failed to start: ${data.message}`));
      else if (data.type === "emit") {
        const waiter = this.pending.get(data.id);
        if (waiter && waiter.onEmit) waiter.onEmit(data.item);
      }
      else if (data.type === "result") {
        const waiter = this.pending.get(data.id);
        this.pending.delete(data.id);
        if (waiter) waiter.resolve(data.result);
      }
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`slot ${index} crashed: ${event.message}`));
    };
    slotSnapshot.then((snapshot) => this.worker.postMessage({
      type: "init", interrupt: this.interrupt, functions: panelSource, index: packageIndex, distribution,
      snapshot: distribution ? null : snapshot,  // the snapshot is of the bundle's Pyodide, not the owner's
    }));
  }

  async run(job, onEmit) {
    await this.ready;
    if (this.interrupt) Atomics.store(this.interrupt, 0, 0);
    return this.call({ type: "run", job }, onEmit);
  }

  async call(message, onEmit) {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEmit });
      this.worker.postMessage({ ...message, id });
    });
  }

  stopCode() {
    if (this.interrupt) Atomics.store(this.interrupt, 0, 2);  // 2 = SIGINT: KeyboardInterrupt between bytecodes
    this.worker.postMessage({ type: "cancel" });  // for code that is awaiting, not computing
  }

  fail(err) {
    this.settle.reject(err);
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  terminate() {
    this.worker.terminate();
    this.fail(new Error(`slot ${this.index} was replaced`));
  }
}

const slots = [];
// What the Python side (wasm_executor/engine/browser_slots.py) calls, as module `wasm_slot_host`.
const slotHost = {
  async resize(n) {
    while (slots.length < n) slots.push(new Slot(slots.length));
    while (slots.length > n) slots.pop().terminate();
    await Promise.all(slots.map((s) => s.ready));
  },
  async functions() {
    return slots[0].call({ type: "describe" });
  },
  setPackageIndex(url) {
    packageIndex = url;
    for (const slot of slots) slot.worker.postMessage({ type: "index", url });
  },
  // A slot's Pyodide takes its lock file at boot: slots booted with another distribution start
  // again (in the background: the executor's resize waits for them and reports a failed boot).
  setDistribution(url) {
    if (url === distribution) return;
    distribution = url;
    for (let i = 0; i < slots.length; i++) slotHost.replace(i);
  },
  // The Functions panel: slot 0 tries the code first; only if it loads do the others get it.
  async setFunctions(source) {
    if (slots.length === 0) await slotHost.resize(1);
    const first = await slots[0].call({ type: "functions", source });
    if (JSON.parse(first).error) return first;
    panelSource = source;
    await Promise.all(slots.slice(1).map((s) => s.call({ type: "functions", source })));
    return first;
  },
  run(index, job, onEmit) {
    return slots[index].run(job, onEmit);
  },
  interrupt(index) {
    if (slots[index]) slots[index].stopCode();
  },
  replace(index) {
    slots[index].terminate();
    slots[index] = new Slot(index);
  },
};

// A snapshot is kept in Cache Storage for the next visit, under the bundle it was made of (its
// Pyodide, wheel and extras: bundle.json); a visit of another bundle replaces it.
const SNAPSHOTS = "wasm-executor-snapshots";

async function snapshotKey() {
  const response = await fetch(new URL("./bundle.json", import.meta.url));
  const b = await response.json();
  return new URL(`./snapshot/${b.pyodide}/${b.wheel_sha256}/${(b.extras || []).join("+") || "-"}`, import.meta.url).href;
}

async function keptSnapshot(key) {
  const kept = await (await caches.open(SNAPSHOTS)).match(key);
  return kept ? new Uint8Array(await kept.arrayBuffer()) : null;
}

async function keepSnapshot(key, snapshot) {
  const cache = await caches.open(SNAPSHOTS);
  for (const old of await cache.keys()) await cache.delete(old);
  await cache.put(key, new Response(snapshot));
}

async function bootFromSnapshotOrNot(progress) {
  const key = await snapshotKey().catch(() => null);
  const kept = key ? await keptSnapshot(key).catch(() => null) : null;
  if (kept) {
    try {
      const pyodide = await bootPython(progress, { snapshot: kept });
      haveSnapshot(kept);
      post({ type: "log", message: `Python started from the snapshot kept by an earlier visit (${(kept.length / 2 ** 20).toFixed(0)} MiB)` });
      return pyodide;
    } catch (err) {
      post({ type: "log", message: `the kept snapshot did not boot (${errorText(err)}): booting in full` });
      await caches.delete(SNAPSHOTS).catch(() => {});
    }
  }
  const full = await bootPython(progress, { snapshotting: true });
  const snapshot = takeSnapshot(full, (message) => post({ type: "log", message }));
  haveSnapshot(snapshot);
  // A Python booted to be snapshotted does not reach this worker's globals rightly (a property such
  // as `location` throws "Illegal invocation"): this worker runs one restored from the snapshot,
  // or, when none could be taken, one booted again in full.
  if (!snapshot) return bootPython(progress);
  post({ type: "log", message: `slots start from a snapshot of this worker's Python (${(snapshot.length / 2 ** 20).toFixed(0)} MiB), kept for the next visit` });
  if (key) keepSnapshot(key, snapshot).catch(() => {});  // in the background; only a later visit needs it
  return bootPython(progress, { snapshot });
}

async function boot() {
  let pyodide;
  try {
    pyodide = await bootFromSnapshotOrNot((value, text) => post({ type: "progress", value, text }));
  } finally {
    haveSnapshot(null);  // (no-op once settled) slots waiting for one boot in full
  }
  pyodide.registerJsModule("wasm_slot_host", slotHost);
  pyodide.registerJsModule("wasm_net", { post: netPost });
  pyodide.registerJsModule("wasm_keystore", { load: keystore.load, save: keystore.save, number: keystore.number });
  post({ type: "progress", value: 100, text: "Ready" });
  post({ type: "ready" });
  return pyodide.pyimport("wasm_executor.worker");
}

const ready = boot().catch((err) => {
  post({ type: "fatal", message: errorText(err) });
  throw err;
});

self.onmessage = async (event) => {
  if (event.data.type === "warm") {
    // Boot the slots the form asks for while this worker loads Python and the form is filled in
    // (each slot loads its own Pyodide: the longest part of starting). Start resizes to what it says.
    if (slots.length === 0) {
      distribution = String(event.data.distribution || "");
      slotHost.resize(Math.min(Math.max(1, event.data.slots | 0), 64)).catch(() => {});
    }
    return;  // a failure shows again at Start
  }
  const bridge = await ready;
  bridge.handle(event.data);
};
