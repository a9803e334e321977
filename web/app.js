// The page: renders the events the executor worker sends (wasm_executor/events.py) and sends
// it commands. It invents no executor state. Everything shown from a process is set with
// textContent: arguments come from strangers.
import { ThroughputChart } from "./chart.mjs";
import { workerURL } from "./trusted.mjs";
import { volunteerView } from "./volunteer.mjs";

const $ = (id) => document.getElementById(id);
const LEGACY_KEY_STORE = "wasm-executor.prvkey";  // where older pages kept the executor key in plain text
const SETTINGS_STORE = "wasm-executor.settings";
const COLONY_KEY_STORE = "wasm-executor.colony-prvkey";
const FUNCTIONS_STORE = "wasm-executor.functions";  // the Functions panel's code, applied again on load
const MAX_ROWS = 50;
const RUNNING_STATES = ["standing by", "registering", "waiting for approval", "polling", "paused", "paused by you", "stopping"];
const SERVING_STORE = "wasm-executor.serving";  // sessionStorage: this tab was serving (a reload serves again)
const HOLD_STORE = "wasm-executor.paused";  // localStorage: the owner paused serving (kept across reloads)

// Form fields carry ExecutorConfig's names (name="server_url", …): what is sent is what Python reads.
const FIELDS = ["server-url", "colony-name", "executor-name", "executor-type", "slots", "slot-memory", "package-index", "pyodide-dist"];
const worker = new Worker(workerURL("./worker.mjs", import.meta.url), { type: "module" });
let identity = null;
const rows = new Map();
const slotSince = new Map();  // slot -> performance.now() when it took its process

function log(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function showState({ state, detail }) {
  $("state").textContent = state;
  $("state").dataset.state = state;
  $("detail").textContent = joinLink && state === "ready"
    ? "Click Join: the colony's admission service adds this browser; no key is needed." : (detail || "");
  const running = RUNNING_STATES.includes(state);
  $("start").disabled = running || !identity;
  $("stop").disabled = !running || state === "stopping";
  $("pause").disabled = !["polling", "paused", "paused by you"].includes(state);
  $("stop-now").disabled = !running || state === "standing by";
  $("approval").hidden = state !== "waiting for approval";
  if (state === "waiting for approval") $("approval-command").textContent = detail;
}

function defaultSlots() {
  return Math.max(1, (navigator.hardwareConcurrency || 2) - 1);
}

// A join link (python -m wasm_executor.admission invite) names the server, colony, type and an
// invite: the admission service adds and approves this executor, so no key is typed or stored.
function readJoinLink() {
  const q = new URLSearchParams(location.search);
  const [server, colony, admission, invite] = ["server", "colony", "admission", "invite"].map((k) => (q.get(k) || "").trim());
  if (!server || !colony || !admission || !invite) return null;
  return { server, colony, admission, invite, type: q.get("type") || "wasm", location: q.get("location") || "", code: q.get("code") === "1" };
}
const joinLink = readJoinLink();

function showJoinLink(link) {
  $("server-url").value = link.server;
  $("colony-name").value = link.colony;
  $("executor-type").value = link.type;
  for (const id of ["server-url", "colony-name", "executor-type"]) $(id).readOnly = true;
  $("colony-key-field").hidden = true;
  $("remember-key-field").hidden = true;
  $("join-banner").textContent = `Join colony ${link.colony} on ${link.server}`;
  $("join-banner").hidden = false;
  $("start").textContent = "Join";
  document.title = `Join colony ${link.colony}`;
  volunteerView(link);
}

function loadSettings() {
  const saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || "{}");
  $("server-url").value = saved.server_url || `${location.protocol === "https:" ? "https" : "http"}://${location.hostname || "127.0.0.1"}:50080`;
  for (const id of ["colony-name", "executor-name", "executor-type", "slots", "slot-memory", "package-index", "pyodide-dist"]) {
    const name = $(id).name;
    if (saved[name]) $(id).value = saved[name];
  }
  if (!$("slots").value) $("slots").value = defaultSlots();
  $("allow-code").checked = saved.allow_code === true;  // consent is off until the owner ticks it
  $("plugged-only").checked = saved.plugged_only === true;
  if (joinLink) { showJoinLink(joinLink); return; }
  const colonyKey = localStorage.getItem(COLONY_KEY_STORE);
  if (colonyKey) { $("colony-prvkey").value = colonyKey; $("remember-key").checked = true; }
}

function formValues() {
  const values = {};
  for (const id of FIELDS) values[$(id).name] = $(id).value.trim();
  values.slots = Number(values.slots) || 1;
  values.slot_memory_mib = Number(values.slot_memory_mib) || 0;  // 0: the device's share
  values.allow_code = $("allow-code").checked;
  values.plugged_only = $("plugged-only").checked;
  return values;
}

function saveSettings(values) {
  if (joinLink) {  // the link's server, colony and type are the link's, not the owner's settings
    const saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || "{}");
    localStorage.setItem(SETTINGS_STORE, JSON.stringify({
      ...saved, executorname: values.executorname, slots: values.slots, slot_memory_mib: values.slot_memory_mib, allow_code: values.allow_code, package_index: values.package_index,
      pyodide_distribution: values.pyodide_distribution, plugged_only: values.plugged_only,
    }));
    return;
  }
  localStorage.setItem(SETTINGS_STORE, JSON.stringify(values));
  if ($("remember-key").checked && $("colony-prvkey").value) localStorage.setItem(COLONY_KEY_STORE, $("colony-prvkey").value.trim());
  else localStorage.removeItem(COLONY_KEY_STORE);
}

function showProcess(p) {
  let tr = rows.get(p.processid);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.processid = p.processid;
    for (let i = 0; i < 5; i++) tr.appendChild(document.createElement("td"));
    $("processes").tBodies[0].prepend(tr);
    rows.set(p.processid, tr);
    while (rows.size > MAX_ROWS) {
      const last = $("processes").tBodies[0].lastChild;
      rows.delete(last.dataset.processid);
      last.remove();
    }
  }
  const cells = tr.children;
  cells[0].textContent = p.funcname;
  cells[1].textContent = (p.args || []).join(" ");
  cells[2].textContent = p.status === "done" ? (p.output || []).join("\n") : (p.error || "");
  cells[3].textContent = p.millis !== undefined ? `${p.millis} ms` : "";
  cells[4].textContent = p.status;
  tr.className = p.status;
  if (p.done !== undefined) { $("done-count").textContent = p.done; $("failed-count").textContent = p.failed; }
}

function slotItem(index) {
  const list = $("slot-list");
  while (list.children.length <= index) {
    const li = document.createElement("li");
    li.dataset.slot = list.children.length;
    list.appendChild(li);
  }
  return list.children[index];
}

function showSlot({ slot, funcname }) {
  const li = slotItem(slot);
  li.dataset.funcname = funcname || "";
  li.className = funcname ? "busy" : "idle";
  if (funcname) slotSince.set(slot, performance.now());
  else slotSince.delete(slot);
  renderSlot(li);
}

function renderSlot(li) {
  const slot = Number(li.dataset.slot);
  const since = slotSince.get(slot);
  li.textContent = since === undefined
    ? `slot ${slot}: idle`
    : `slot ${slot}: ${li.dataset.funcname} for ${((performance.now() - since) / 1000).toFixed(0)} s`;
}

function showSlotCount(n) {
  const list = $("slot-list");
  while (list.children.length > n) list.lastChild.remove();
  for (let i = 0; i < n; i++) if (!slotSince.has(i)) showSlot({ slot: i, funcname: "" });
}

const chart = new ThroughputChart($("chart-line"), $("chart-caption"));
let registeredSlots = 0;
let giving = false;  // serving (polling, or finishing what runs): the registered slots are the colony's

function showCpuGiven() {
  const busy = [...$("slot-list").children].filter((li) => li.className === "busy").length;
  const n = registeredSlots;
  $("cpu-given").textContent = giving && n ? `${n} core${n > 1 ? "s" : ""}, ${busy} busy` : (busy ? `${busy} busy, finishing` : "none");
}

setInterval(() => {
  for (const li of $("slot-list").children) if (li.className === "busy") renderSlot(li);
  showThroughput();
  chart.draw();
  showCpuGiven();
}, 1000);

// Rendering is coalesced: messages are queued and applied at most once per RENDER_EVERY ms, in
// an animation frame, keeping only what the screen can show (the newest state per process and
// per slot). Rendering every message cost the page's main thread 10 ms per process: more than
// the executor itself. A dashboard read by a person needs no more than a few updates a second.
const pending = { processes: new Map(), slots: new Map(), other: [] };
let frameRequested = false;
const RENDER_EVERY = 250;

let started = 0;  // processes this page started: more than it ended would mean one ran twice

function queue(msg) {
  if (msg.type === "process" && msg.status === "running") $("status").dataset.started = ++started;
  if (msg.type === "process") {
    pending.processes.delete(msg.processid);  // re-insert: Map order is arrival order
    pending.processes.set(msg.processid, msg);
    if (pending.processes.size > MAX_ROWS) pending.processes.delete(pending.processes.keys().next().value);
    if (msg.done !== undefined) chart.ended();
  } else if (msg.type === "slot") {
    pending.slots.set(msg.slot, msg);
  } else {
    pending.other.push(msg);
    // A hidden tab gets no frames: keep every state change but only the newest 200 log lines.
    if (pending.other.length > 400) pending.other = pending.other.filter((m, i, all) => m.type !== "log" || i >= all.length - 200);
  }
  if (!frameRequested) {
    frameRequested = true;
    // Commands and state changes show at the next frame; process rows can wait a little.
    const urgent = msg.type !== "process" && msg.type !== "slot";
    setTimeout(() => requestAnimationFrame(render), urgent ? 0 : RENDER_EVERY);
  }
}

function render() {
  frameRequested = false;
  const { processes, slots, other } = pending;
  pending.processes = new Map();
  pending.slots = new Map();
  pending.other = [];
  for (const msg of other) apply(msg);
  for (const msg of processes.values()) showProcess(msg);
  for (const msg of slots.values()) showSlot(msg);
  showThroughput();
}

function showThroughput() {
  $("throughput").textContent = `${chart.perSecond().toFixed(1)} processes/s`;
}

function apply(msg) {
  switch (msg.type) {
    case "progress":
      $("progress").value = msg.value;
      $("progress-label").textContent = msg.text;
      break;
    case "ready":  // Python is up in the executor worker: ask for the executor's identity
      worker.postMessage({ type: "identity", prvkey: localStorage.getItem(LEGACY_KEY_STORE) });
      break;
    case "identity":
      if (msg.error) log(msg.error);
      identity = msg;
      localStorage.removeItem(LEGACY_KEY_STORE);  // the worker keeps it now, encrypted (web/keystore.mjs)
      $("loading").hidden = true;
      $("executor-id").textContent = msg.executorid;
      if (!$("executor-name").value) $("executor-name").value = `browser-${msg.executorid.slice(0, 8)}`;
      if (sessionStorage.getItem(SERVING_STORE)) {  // this tab was serving before a reload: go on, no click needed
        log("this tab was serving before it was reloaded: serving again");
        start(JSON.parse(sessionStorage.getItem(SERVING_STORE)));
      }
      break;
    case "state":
      showState(msg);
      giving = msg.state === "polling" || msg.state === "stopping";
      showCpuGiven();
      break;
    case "registered":
      registeredSlots = msg.slots;
      showSlotCount(msg.slots);
      log(`registered with ${msg.slots} slot(s); functions: ${msg.functions.join(", ")}`);
      break;
    case "log":
      log(msg.message);
      break;
    case "server":  // several servers given: the one in use (wasm_executor/servers.py)
      $("server-in-use").textContent = `${msg.url} (of ${msg.servers})`;
      $("server-in-use").dataset.url = msg.url;
      $("server-in-use").hidden = $("server-in-use-label").hidden = false;
      break;
    case "functions":
      showFunctions(msg);
      break;
    case "fatal":
      $("progress-label").textContent = `Failed to load: ${msg.message}`;
      showState({ state: "error", detail: msg.message });
      break;
    default:  // a message this page does not know (a newer worker?): say so rather than drop it
      console.warn("unknown message from the executor worker", msg);
      log(`unknown message from the executor worker: ${msg.type}`);
  }
}

// The Functions panel: the code goes to every slot; only code that loads is kept (and remembered).
let applying = null;

function applyFunctions(source) {
  applying = source;
  $("apply-functions").disabled = true;
  $("functions-status").removeAttribute("data-error");
  $("functions-status").textContent = "applying…";
  worker.postMessage({ type: "functions", source });
}

function showFunctions({ functions, panel, added, removed, error }) {
  $("apply-functions").disabled = false;
  const status = $("functions-status");
  if (error) {
    status.dataset.error = "";
    status.textContent = `Not applied, nothing changed: ${error}`;
    log(`functions not applied: ${error}`);
    return;
  }
  if (applying !== null) localStorage.setItem(FUNCTIONS_STORE, applying);
  applying = null;
  status.removeAttribute("data-error");
  const parts = [`Serving ${functions.length} functions; from this panel: ${panel.length ? panel.join(", ") : "none"}.`];
  if (added.length) parts.push(`Offered to the colony: ${added.join(", ")}.`);
  if (removed.length) parts.push(`Withdrawn: ${removed.join(", ")}.`);
  status.textContent = parts.join(" ");
  log(`functions applied: ${parts.join(" ")}`);
}

$("apply-functions").addEventListener("click", () => applyFunctions($("functions-source").value));
$("functions-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) $("functions-source").value = await file.text();
});

// The farewell (wasm_executor/engine/farewell.py): a request the executor signed when it joined,
// sent as this page goes away (closed, reloaded) or is frozen by the browser, with sendBeacon,
// which outlives the page: the executor leaves the colony and the server puts the processes it
// held back in the queue, to run elsewhere now rather than at their deadline. On a freeze the
// executor worker is also ended, which cuts its open long-poll (else the server could hand a
// frozen page a new process); a resumed page reloads and, having been serving, serves again.
// Handled outside the render queue: hidden tabs get no animation frames, and they get frozen.
let farewell = null;
let frozenAway = false;

function sayFarewell(why) {
  if (!farewell) return false;
  const sent = navigator.sendBeacon(farewell.says_why ? `${farewell.url}?why=${why}` : farewell.url, farewell.body);
  farewell = null;
  return sent;
}
window.addEventListener("pagehide", () => sayFarewell("closed"));
document.addEventListener("freeze", () => {
  if (!farewell) return;  // not serving (or no way to hand back): nothing is held for the colony
  // The worker first: its long-poll closes before the leave is sent, so a process the server
  // hands that poll in the meantime is assigned before the leave, which then puts it back too.
  worker.terminate();
  sayFarewell("frozen");
  frozenAway = true;
});
document.addEventListener("resume", () => { if (frozenAway) location.reload(); });

// One budget per browser: of all the tabs of this page in one browser profile, one serves at a
// time, with its slots (default: cores - 1); the others stand by, Python loaded, and the first
// of them takes over when it stops or closes. A Web Lock says which: the browser releases it
// with the tab. (A tab holding a lock another waits on is also spared Chromium's freezing.)
const SERVING_LOCK = "wasm-executor.serving";
let letLockGo = null;  // while this tab serves: call to hand the lock to a tab standing by
let standingBy = null;  // while this tab waits for it: abort to give up

function start(command) {
  sessionStorage.setItem(SERVING_STORE, JSON.stringify(command));
  $("server-in-use").hidden = $("server-in-use-label").hidden = true;  // shown again if several servers are given
  $("try-line").textContent = `colonies function exec --func add --args 5 --args 3 --targettype ${command.executortype || "wasm"} --wait --out`;
  if (!navigator.locks || letLockGo) { serve(command); return; }
  navigator.locks.request(SERVING_LOCK, { ifAvailable: true }, (lock) => {
    if (lock) return servingWith(command);
    standBy(command);
    return undefined;
  });
}

function servingWith(command) {
  serve(command);
  return new Promise((release) => { letLockGo = release; });
}

function standBy(command) {
  showState({ state: "standing by", detail: "Another tab of this browser is serving the colony with this browser's cores. This tab takes over when that one stops or is closed." });
  standingBy = new AbortController();
  navigator.locks.request(SERVING_LOCK, { signal: standingBy.signal }, () => {
    standingBy = null;
    log("the tab that was serving stopped or was closed: this tab serves now");
    return servingWith(command);
  }).catch(() => {});  // given up (Stop)
}

function serve(command) {
  tellVisibility();
  tellHold();
  worker.postMessage(command);
}

function served() {  // this tab's executor stopped: a tab standing by may serve now
  if (letLockGo) { letLockGo(); letLockGo = null; }
}

// The owner decides how much of the device the colony gets: Slots (remembered with the settings),
// Pause (remembered until Resume, across reloads), and serving only while plugged in (the Battery
// Status API, where the browser has it: Chromium). Held, the executor stays in the colony, finishes
// what it runs and asks for nothing (wasm_executor/engine/poll.py).
let battery = null;

function holdReason() {
  if (localStorage.getItem(HOLD_STORE)) return "running processes finish, no new work is taken; click Resume to serve again";
  if ($("plugged-only").checked && battery && !battery.charging) return "on battery: serving again when this device is plugged in";
  return "";
}

function tellHold() {
  const reason = holdReason();
  worker.postMessage({ type: "hold", held: reason !== "", reason });
  $("pause").textContent = localStorage.getItem(HOLD_STORE) ? "Resume" : "Pause";
}

$("pause").addEventListener("click", () => {
  if (localStorage.getItem(HOLD_STORE)) localStorage.removeItem(HOLD_STORE);
  else localStorage.setItem(HOLD_STORE, "1");
  tellHold();
});
$("plugged-only").addEventListener("change", () => {
  const saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || "{}");
  localStorage.setItem(SETTINGS_STORE, JSON.stringify({ ...saved, plugged_only: $("plugged-only").checked }));
  tellHold();
});
if (navigator.getBattery) {
  navigator.getBattery().then((b) => { battery = b; b.addEventListener("chargingchange", tellHold); tellHold(); }, () => {});
} else {
  $("plugged-only").disabled = true;
  $("plugged-only-field").title = "this browser does not say whether the device is plugged in";
}

function watchState(msg) {
  if (msg.type === "farewell") {
    farewell = msg.url ? msg : null;
    return true;
  }
  if (msg.type === "pollmode") {  // "short" while hidden: no long-poll held open (engine/poll.py)
    document.body.dataset.poll = msg.mode;
    return true;
  }
  if (msg.type === "state" && (msg.state === "stopped" || msg.state === "error")) {
    farewell = null;  // nothing held now
    served();
  }
  return false;
}

// Python's events arrive as JSON text (wasm_executor/_compat.post_message); worker.mjs's own as objects.
// Loading, identity and the farewell are acted on at once, not at the next frame: a hidden tab gets
// no frames, and a reloaded hidden tab must still start serving again.
const AT_ONCE = new Set(["ready", "identity", "fatal"]);
worker.onmessage = ({ data }) => {
  const msg = typeof data === "string" ? JSON.parse(data) : data;
  if (watchState(msg)) return;
  if (AT_ONCE.has(msg.type)) apply(msg);
  else queue(msg);
};
// A hidden tab may be frozen at any moment: its executor then holds no long-poll open (engine/poll.py).
const tellVisibility = () => worker.postMessage({ type: "visibility", hidden: document.visibilityState === "hidden" });
document.addEventListener("visibilitychange", tellVisibility);
worker.onerror = (e) => showState({ state: "error", detail: `worker error: ${e.message}` });

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!identity) return;
  const values = formValues();
  saveSettings(values);
  const joining = joinLink ? { admission_url: joinLink.admission, invite: joinLink.invite, locationname: joinLink.location, colony_prvkey: "" }
    : { colony_prvkey: $("colony-prvkey").value.trim() };
  localStorage.removeItem(HOLD_STORE);  // a click on Start means: serve
  start({ type: "start", ...values, ...joining });
});
for (const [id, now] of [["stop", false], ["stop-now", true]]) {
  $(id).addEventListener("click", () => {
    sessionStorage.removeItem(SERVING_STORE);  // stopped by the owner: a reload does not serve again
    if (standingBy) {  // nothing runs here yet: stop waiting
      standingBy.abort();
      standingBy = null;
      showState({ state: "stopped", detail: "" });
      return;
    }
    worker.postMessage({ type: "stop", now });
  });
}

loadSettings();
// The slot workers boot now, beside the executor worker's own Python, not after Start.
worker.postMessage({ type: "warm", slots: Number($("slots").value) || defaultSlots(), distribution: $("pyodide-dist").value.trim() });
$("functions-source").value = localStorage.getItem(FUNCTIONS_STORE) || "";
if ($("functions-source").value.trim()) applyFunctions($("functions-source").value);
