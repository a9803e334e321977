// A slot: a module Web Worker with its own Pyodide that runs functions and nothing else.
// It holds no key and never talks to the server; the executor worker (worker.mjs) owns it.
// Messages in:  {type: "init", interrupt: Uint8Array over a SharedArrayBuffer, or null, functions: panel code,
//                distribution: the owner's Pyodide distribution URL, or "", snapshot: a memory snapshot
//                to boot from (pyodide-boot.mjs), or null}
//               {type: "run", id, job: JSON text} | {type: "cancel"}
//               {type: "functions", id, source} (the Functions panel's code) | {type: "describe", id}
//               {type: "index", url} (the owner's package index for `requires`; also in init)
// Messages out: {type: "ready", info: JSON text} | {type: "failed", message} | {type: "result", id, result: JSON text}
//               {type: "emit", id, item: JSON text}  (each item a streaming function yields, as it is made)
import { bootPython, errorText } from "./pyodide-boot.mjs";

// Code that runs here comes from the colony. This worker shares the page's origin, so without
// this it could open the executor worker's key store (IndexedDB) and ask WebCrypto to decrypt
// the key, or start a worker of its own. Take those doors out of this realm before any of it runs.
function lockDown() {
  for (const name of ["indexedDB", "caches"]) {
    for (let o = self; o; o = Object.getPrototypeOf(o)) {
      if (Object.getOwnPropertyDescriptor(o, name)) delete o[name];
    }
  }
  for (const name of ["Worker", "SharedWorker", "IDBFactory"]) delete self[name];
  // Claim the one Trusted Types policy name the CSP allows, so code here cannot make script URLs.
  if (self.trustedTypes) self.trustedTypes.createPolicy("wasm-executor", {});
}
lockDown();

let runner = null;
let booting = null;

async function boot(interrupt, panel, index, distribution, snapshot) {
  let pyodide;
  try {
    pyodide = await bootPython(() => {}, { distribution, snapshot });
  } catch (err) {
    if (!snapshot) throw err;
    pyodide = await bootPython(() => {}, { distribution });  // a snapshot that does not boot: in full
  }
  if (interrupt) pyodide.setInterruptBuffer(interrupt);  // KeyboardInterrupt in running Python code
  runner = pyodide.pyimport("wasm_executor.slot_worker");
  const own = await fetch(new URL("./functions.py", import.meta.url));
  if (own.ok) runner.load_own_functions(await own.text());
  if (panel) runner.set_panel_functions(panel);  // a slot started after the panel was applied serves it too
  if (index) runner.set_package_index(index);
  self.postMessage({ type: "ready", info: runner.ready_json() });
}

self.onmessage = async ({ data }) => {
  if (data.type === "init") {
    booting = boot(data.interrupt, data.functions, data.index, data.distribution, data.snapshot).catch((err) => self.postMessage({ type: "failed", message: errorText(err) }));
  } else if (data.type === "run") {
    await booting;
    const emit = (item) => self.postMessage({ type: "emit", id: data.id, item });
    const result = await runner.run(data.job, emit);
    self.postMessage({ type: "result", id: data.id, result });
  } else if (data.type === "functions" || data.type === "describe") {
    await booting;
    const result = data.type === "functions" ? runner.set_panel_functions(data.source) : runner.ready_json();
    self.postMessage({ type: "result", id: data.id, result });
  } else if (data.type === "index") {
    await booting;
    runner.set_package_index(data.url);
  } else if (data.type === "cancel") {
    if (runner) runner.cancel();
  }
};
