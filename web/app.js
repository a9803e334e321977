// The page: form, state, counters, process list. Python does the work in the worker.
// Everything shown from a process is set with textContent: arguments come from strangers.
const $ = (id) => document.getElementById(id);
const KEY_STORE = "wasm-executor.prvkey";
const SETTINGS_STORE = "wasm-executor.settings";
const COLONY_KEY_STORE = "wasm-executor.colony-prvkey";
const MAX_ROWS = 50;

const fields = ["server-url", "colony-name", "executor-name", "executor-type"];
const worker = new Worker(new URL("./worker.mjs", import.meta.url), { type: "module" });
let identity = null;
const rows = new Map();

function log(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function setState(state, detail = "") {
  $("state").textContent = state;
  $("state").dataset.state = state;
  $("detail").textContent = detail || "";
  const running = !["stopped", "error", "loading", "ready"].includes(state);
  $("start").disabled = running || !identity;
  $("stop").disabled = !running || state === "stopping";
  $("approval").hidden = state !== "waiting for approval";
  if (state === "waiting for approval") $("approval-command").textContent = detail;
}

function loadSettings() {
  const saved = JSON.parse(localStorage.getItem(SETTINGS_STORE) || "{}");
  $("server-url").value = saved.serverUrl || `${location.protocol === "https:" ? "https" : "http"}://${location.hostname || "127.0.0.1"}:50080`;
  for (const id of ["colony-name", "executor-name", "executor-type"]) {
    const name = $(id).name;
    if (saved[name]) $(id).value = saved[name];
  }
  const colonyKey = localStorage.getItem(COLONY_KEY_STORE);
  if (colonyKey) { $("colony-prvkey").value = colonyKey; $("remember-key").checked = true; }
}

function saveSettings() {
  const s = {};
  for (const id of fields) s[$(id).name] = $(id).value.trim();
  localStorage.setItem(SETTINGS_STORE, JSON.stringify(s));
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
  cells[2].textContent = p.status === "failed" ? p.error : (p.output || []).join("\n");
  cells[3].textContent = p.millis !== undefined ? `${p.millis} ms` : "";
  cells[4].textContent = p.status;
  tr.className = p.status;
  if (p.done !== undefined) { $("done-count").textContent = p.done; $("failed-count").textContent = p.failed; }
}

worker.onmessage = ({ data: msg }) => {
  switch (msg.type) {
    case "progress":
      $("progress").value = msg.value;
      $("progress-label").textContent = msg.text;
      break;
    case "ready":
      $("loading").hidden = true;
      worker.postMessage({ type: "identity", prvkey: localStorage.getItem(KEY_STORE) });
      break;
    case "identity":
      if (msg.error) log(msg.error);
      if (!msg.prvkey) break;
      identity = msg;
      localStorage.setItem(KEY_STORE, msg.prvkey);
      $("executor-id").textContent = msg.executorid;
      if (!$("executor-name").value) $("executor-name").value = `browser-${msg.executorid.slice(0, 8)}`;
      setState("ready", "Fill in the form and click Start Executor.");
      break;
    case "state":
      setState(msg.state, msg.detail);
      break;
    case "process":
      showProcess(msg);
      break;
    case "registered":
      log(`registered; functions: ${msg.functions.join(", ")}`);
      break;
    case "log":
      log(msg.message);
      break;
    case "fatal":
      $("progress-label").textContent = `Failed to load: ${msg.message}`;
      setState("error", msg.message);
      break;
  }
};
worker.onerror = (e) => setState("error", `worker error: ${e.message}`);

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!identity) return;
  saveSettings();
  const s = { type: "start", prvkey: identity.prvkey, colonyPrvkey: $("colony-prvkey").value.trim() };
  for (const id of fields) s[$(id).name] = $(id).value.trim();
  $("try-line").textContent = `colonies function exec --func add --args 5 --args 3 --targettype ${s.executorType} --wait --out`;
  setState("registering", s.serverUrl);
  worker.postMessage(s);
});
$("stop").addEventListener("click", () => {
  setState("stopping", "finishing the current poll");
  worker.postMessage({ type: "stop" });
});

loadSettings();
