// Loading Pyodide and our wheel from this bundle, shared by the executor worker and the slot workers.
// Nothing is fetched from any other host.
import { loadPyodide } from "./pyodide/pyodide.mjs";

export async function bootPython(onProgress = () => {}) {
  onProgress(5, "Loading the Python runtime…");
  const pyodide = await loadPyodide({ indexURL: new URL("./pyodide/", import.meta.url).href });
  onProgress(60, "Loading wasm-executor and ecdsa…");
  const problems = [];
  const loaded = await pyodide.loadPackage(["wasm-executor"], {
    messageCallback: () => {},
    errorCallback: (m) => problems.push(m),
  });
  if (!loaded.some((p) => p.name === "wasm-executor")) {
    throw new Error(`could not load the wasm-executor wheel: ${problems.join("; ") || "not in the bundle"}`);
  }
  return pyodide;
}

export const errorText = (err) => String(err && err.message ? err.message : err);
