// The executor worker's HTTP request, in JS: Python (wasm_executor/transport/pyodide.py) makes
// one call per request instead of touching each JS object through the FFI (3.3 ms of the worker
// per process). Registered for Python as the module `wasm_net` (worker.mjs).
// Resolves to "STATUS BODY"; rejects with a TimeoutError after `ms`, or an AbortError on abort().
// text/plain keeps the request "simple" for CORS: no preflight round trip.
export function post(url, body, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), ms);
  const promise = fetch(url, { method: "POST", body, headers: { "Content-Type": "text/plain" }, signal: controller.signal })
    .then((r) => r.text().then((text) => `${r.status} ${text}`))
    .finally(() => clearTimeout(timer));
  return { promise, abort: () => controller.abort() };
}
