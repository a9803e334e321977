// The page's one Trusted Types policy. The CSP (tools/serve.py) says `require-trusted-types-for
// 'script'; trusted-types wasm-executor`: no string reaches an HTML or script sink unless it
// passes here, and the page itself needs only this: worker scripts from its own origin.
const SAME_ORIGIN_ONLY = (url) => {
  const u = new URL(url, self.location.href);
  if (u.origin !== self.location.origin) throw new TypeError(`refusing a worker script from ${u.origin}`);
  return u.href;
};

export const policy = self.trustedTypes
  ? self.trustedTypes.createPolicy("wasm-executor", { createScriptURL: SAME_ORIGIN_ONLY })
  : { createScriptURL: SAME_ORIGIN_ONLY };  // browsers without Trusted Types: the same check

export const workerURL = (relative, base) => policy.createScriptURL(new URL(relative, base).href);
