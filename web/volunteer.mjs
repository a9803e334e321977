// The page a join link opens is for a person who is not a developer (a volunteer): which colony
// and server, what serving means, how many cores, one Join button, then a live view (done, CPU
// given, a throughput picture). The owner's tools (settings, Functions panel, processes, CLI
// lines, log) move into "Advanced", closed.
const $ = (id) => document.getElementById(id);
const OWNER_FIELDS = ["server-url", "colony-name", "executor-name", "executor-type", "slot-memory", "package-index", "pyodide-dist"];
const OWNER_SECTIONS = ["functions-panel", "latest", "try-it"];

export function volunteerView(link) {
  document.body.classList.add("volunteer");
  $("join-banner").after($("volunteer-intro"));  // first what the link joins, then what that means
  $("volunteer-intro").hidden = false;
  $("stop").textContent = "Stop";
  $("stop-now").hidden = true;  // interrupting running work is the owner's tool
  $("volunteer-colony").textContent = link.colony;
  $("volunteer-server").textContent = link.server;
  $("code-notice").hidden = !link.code;
  // Consent to run the colony's code is asked only when the link says it sends some; unasked, it is no.
  $("allow-code-field").hidden = !link.code;
  if (!link.code) $("allow-code").checked = false;
  $("allow-code").nextElementSibling.textContent = "I trust this colony: run the Python code it sends";
  $("slots-label").textContent = `Cores to give (this device has ${navigator.hardwareConcurrency || "several"})`;
  const advanced = $("advanced-body");
  for (const id of OWNER_FIELDS) advanced.append($(id).closest(".field"));
  for (const id of OWNER_SECTIONS) advanced.append($(id));  // "Try it" holds the log too
  $("advanced").hidden = false;
}
