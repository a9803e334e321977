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
