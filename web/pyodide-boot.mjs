// Loading Pyodide and our wheel from this bundle, shared by the executor worker and the slot workers.
// Nothing is fetched from any other host, unless the page's owner names a Pyodide distribution
// (their mirror of a Pyodide release: its pyodide-lock.json and wheels): then packages the bundle
// lacks (numpy, say) load from there, through Pyodide's own lock file and package loader.
import { loadPyodide } from "./pyodide/pyodide.mjs";

const BUNDLE = new URL("./pyodide/", import.meta.url).href;

async function lockAt(base, what) {
  let response;
  try {
    response = await fetch(new URL("pyodide-lock.json", base));
  } catch (err) {
    throw new Error(`${what} ${base} cannot be reached (${errorText(err)})`);
  }
  if (!response.ok) throw new Error(`${what} ${base} has no pyodide-lock.json (HTTP ${response.status})`);
  return response.json();
}

// The distribution's lock with the bundle's packages laid over it (the bundle's own wheels win:
// they are what this page was built and tested with), every file an absolute URL.
export async function distributionLock(distribution) {
  const base = distribution.endsWith("/") ? distribution : `${distribution}/`;
  const [own, theirs] = await Promise.all([lockAt(BUNDLE, "this page's bundle"), lockAt(base, "the Pyodide distribution")]);
  const version = (lock) => (lock.info && lock.info.version) || "";
  if (version(theirs) && version(own) && version(theirs) !== version(own)) {
    throw new Error(`the Pyodide distribution ${base} is Pyodide ${version(theirs)}; this page runs ${version(own)}`);
  }
  const packages = {};
  for (const [lock, at] of [[theirs, base], [own, BUNDLE]]) {
    for (const [name, entry] of Object.entries(lock.packages || {})) {
      packages[name] = { ...entry, file_name: new URL(entry.file_name, at).href };
    }
  }
  return { ...own, packages };
}

export async function bootPython(onProgress = () => {}, { distribution = "" } = {}) {
  onProgress(5, "Loading the Python runtime…");
  const options = { indexURL: BUNDLE };
  if (distribution) options.lockFileContents = distributionLock(distribution);
  const pyodide = await loadPyodide(options);
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
