// Module Web Worker: Python (Pyodide) runs here, so long-polls never block the page.
// Everything is loaded from this bundle (./pyodide/); nothing from any other host.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const post = (msg) => self.postMessage(msg);
const progress = (value, text) => post({ type: "progress", value, text });

async function boot() {
  progress(5, "Loading the Python runtime…");
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  progress(60, "Loading wasm-executor and ecdsa…");
  const problems = [];
  const loaded = await pyodide.loadPackage(["wasm-executor"], {
    messageCallback: () => {},
    errorCallback: (m) => problems.push(m),
  });
  if (!loaded.some((p) => p.name === "wasm-executor")) {
    throw new Error(`could not load the wasm-executor wheel: ${problems.join("; ") || "not in the bundle"}`);
  }
  progress(85, "Starting Python…");
  const bridge = pyodide.pyimport("wasm_executor.worker");
  // The page owner's own functions (web/functions.py), if the bundle has them.
  const own = await fetch(new URL("./functions.py", import.meta.url));
  if (own.ok) {
    try {
      const added = bridge.load_functions(await own.text()).toJs();
      post({ type: "log", message: `loaded functions.py: ${added.join(", ")}` });
    } catch (err) {
      post({ type: "log", message: `functions.py failed to load, serving the built-in functions only: ${err.message}` });
    }
  }
  progress(100, "Ready");
  post({ type: "ready", python: pyodide.runPython("import sys; sys.version.split()[0]") });
  return bridge;
}

const ready = boot().catch((err) => {
  post({ type: "fatal", message: String(err && err.message ? err.message : err) });
  throw err;
});

self.onmessage = async (event) => {
  const bridge = await ready;
  bridge.handle(event.data);
};
