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

// `snapshot`: boot from a memory snapshot of a Pyodide that had loaded the wheel and imported what a
// slot runs (`takeSnapshot`): a fraction of a full boot. `snapshotting`: boot so that one can be taken.
export async function bootPython(onProgress = () => {}, { distribution = "", snapshot = null, snapshotting = false } = {}) {
  onProgress(5, "Loading the Python runtime…");
  const options = { indexURL: BUNDLE };
  if (distribution) options.lockFileContents = distributionLock(distribution);
  else if (snapshot) options._loadSnapshot = snapshot;
  else if (snapshotting) options._makeSnapshot = true;
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
  // A snapshot keeps Python's memory, not its files (the wheel is installed again above) and not
  // its entropy: every Python restored from one would draw the same random numbers.
  if (options._loadSnapshot) pyodide.runPython("import random as _r; _r.seed(); del _r");
  return pyodide;
}

// What a slot imports, imported before the snapshot so that a slot restored from it has it all.
const SNAPSHOT_IMPORTS = "import asyncio, json, hashlib, random, ecdsa, wasm_executor.slot_worker";

// A memory snapshot of a Pyodide booted with `snapshotting` that has loaded the wheel: Pyodide's
// own `makeMemorySnapshot` (private in 314.0.7), which refuses once Python holds JS objects, so it
// is taken before any JS module is registered. It wants the loaded-package list as it was at boot
// (the files are not in the snapshot; a restored Python installs them again): emptied for the
// moment. null, said in `onProblem`, when it cannot be taken: slots then boot in full.
export function takeSnapshot(pyodide, onProblem = () => {}) {
  const loaded = { ...pyodide.loadedPackages };
  try {
    pyodide.runPython(SNAPSHOT_IMPORTS);
    for (const name of Object.keys(loaded)) delete pyodide.loadedPackages[name];
    return pyodide.makeMemorySnapshot();
  } catch (err) {
    onProblem(`no snapshot for the slots (each boots in full): ${errorText(err)}`);
    return null;
  } finally {
    Object.assign(pyodide.loadedPackages, loaded);
  }
}

export const errorText = (err) => String(err && err.message ? err.message : err);
