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

export async function load() {
  const db = await open();
  try {
    const sealed = await request(db, "readonly", (s) => s.get("executor-key"));
    if (!sealed) return null;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, await wrappingKey(db), sealed.data);
    return new TextDecoder().decode(plain);
  } finally {
    db.close();
  }
}

export async function save(hex) {
  const db = await open();
  try {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await wrappingKey(db), new TextEncoder().encode(hex));
    await request(db, "readwrite", (s) => s.put({ iv, data }, "executor-key"));
  } finally {
    db.close();
  }
}
