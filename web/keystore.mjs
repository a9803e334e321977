// Where the executor's own key rests: IndexedDB, encrypted (AES-GCM) with a WebCrypto key that
// was made non-extractable. Only this worker reads it; the page never holds the key.
// What this buys and what it does not (README, "Threat model"): the key is not plain text at
// rest, and no script can export the wrapping key; a script running on this origin could still
// ask WebCrypto to decrypt, so the origin must run nothing but this bundle (its CSP).
const DB = "wasm-executor";
const STORE = "secrets";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function request(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  });
}

async function wrappingKey(db) {
  let key = await request(db, "readonly", (s) => s.get("wrap"));
  if (!key) {
    key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    await request(db, "readwrite", (s) => s.put(key, "wrap"));
  }
  return key;
}

// Each open tab of this origin is its own executor: tab-held Web Locks pick a free identity
// number, kept for the life of this worker, so two tabs never share a key (the server would
// see two executors with one ID) while a reload gets its tab's identity back.
let identity = null;

async function claimIdentity() {
  if (identity !== null) return identity;
  if (!navigator.locks) return (identity = 0);
  for (let n = 0; n < 64; n++) {
    const got = await new Promise((resolve) => {
      navigator.locks.request(`wasm-executor.identity.${n}`, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock ? new Promise(() => {}) : undefined;  // held until this worker ends
      });
    });
    if (got) return (identity = n);
  }
  throw new Error("more than 64 tabs of this page are open");
}

/** This tab's identity number: 0 for the first tab open, 1 for a second, and so on. */
export const number = () => claimIdentity();

const entry = (n) => (n === 0 ? "executor-key" : `executor-key-${n}`);

export async function load() {
  const n = await claimIdentity();
  const db = await open();
  try {
    const sealed = await request(db, "readonly", (s) => s.get(entry(n)));
    if (!sealed) return null;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, await wrappingKey(db), sealed.data);
    return new TextDecoder().decode(plain);
  } finally {
    db.close();
  }
}

export async function save(hex) {
  const n = await claimIdentity();
  const db = await open();
  try {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await wrappingKey(db), new TextEncoder().encode(hex));
    await request(db, "readwrite", (s) => s.put({ iv, data }, entry(n)));
  } finally {
    db.close();
  }
}
