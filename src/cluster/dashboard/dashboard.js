// The cluster dashboard: polls /_cluster/stats every second and renders it.
// Plain browser JavaScript served as it is (no build step), no inline code.

const API = "/_cluster";
const POLL_MS = 1000;
const MAX_EXITED_ROWS = 5;

const $ = (id) => document.getElementById(id);

/** "1 socket", "2 sockets". */
function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function uptime(startedAt, now) {
  return duration(Math.max(0, Math.round((now - Date.parse(startedAt)) / 1000)));
}

function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function actionButton(label, id, verb) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.dataset.id = id;
  button.dataset.verb = verb;
  button.setAttribute("aria-label", `${label} ${id}`);
  return button;
}

function summarize(text, tone) {
  $("summary-text").textContent = text;
  $("summary").dataset.tone = tone;
}

function render(stats) {
  const now = Date.parse(stats.at);
  const running = stats.instances.filter((i) => i.state === "running").length;
  summarize(
    `${running} of ${plural(stats.desired, "instance")} running · ${plural(stats.sockets, "socket")} · ` +
      `${stats.messagesPerSecond} messages/s · Redis ${stats.redis}`,
    running >= stats.desired ? "ok" : "busy",
  );
  const live = stats.instances.filter((i) => i.state !== "exited");
  // The ones that exited lately fold into a short list of their own, newest first;
  // the supervisor forgets them after a while.
  const gone = stats.instances
    .filter((i) => i.state === "exited")
    .sort((a, b) => Date.parse(b.exitedAt) - Date.parse(a.exitedAt))
    .slice(0, MAX_EXITED_ROWS);
  $("exited").replaceChildren(
    ...gone.map((instance) => {
      const li = document.createElement("li");
      const id = document.createElement("span");
      id.className = "id";
      id.textContent = instance.id;
      const ago = duration(Math.max(0, Math.round((now - Date.parse(instance.exitedAt)) / 1000)));
      li.append(id, ` · ${instance.exit ?? "exited"} · ${ago} ago`);
      return li;
    }),
  );
  $("exited-section").hidden = gone.length === 0;
  const rows = live.map((instance) => {
    const tr = document.createElement("tr");
    tr.className = instance.state;
    tr.append(
      cell(instance.id, "id"),
      cell(instance.state, `state state-${instance.state}`),
      cell(String(instance.port), "number"),
      cell(instance.pid === undefined ? "" : String(instance.pid), "number"),
      cell(String(instance.sockets), "number"),
      cell(String(instance.routerConnections), "number"),
      cell(instance.messagesPerSecond.toFixed(1), "number"),
      cell(uptime(instance.startedAt, now)),
    );
    const actions = document.createElement("td");
    actions.className = "actions";
    if (instance.state === "running" || instance.state === "starting") {
      actions.append(
        actionButton("Stop", instance.id, "stop"),
        actionButton("Kill", instance.id, "kill"),
      );
    }
    tr.append(actions);
    return tr;
  });
  $("instances").replaceChildren(...rows);
}

function say(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

async function post(path, body) {
  const res = await fetch(`${API}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error?.message ?? `HTTP ${res.status}`);
  return data;
}

async function run(label, path, body) {
  const buttons = document.querySelectorAll(".controls button");
  for (const b of buttons) b.disabled = true;
  say(`${label}…`);
  try {
    await post(path, body);
    say(`${label}: done`);
  } catch (error) {
    say(`${label} failed: ${error.message}`, true);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

let scaleTouched = false;

async function poll() {
  try {
    const res = await fetch(`${API}/stats`, { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const stats = await res.json();
    render(stats);
    if (!scaleTouched) $("scale-count").value = String(stats.desired);
  } catch (error) {
    summarize(`Cannot reach the cluster (${error.message}); retrying…`, "bad");
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function act(id, verb) {
  post(`/instances/${encodeURIComponent(id)}/${verb}`)
    .then(() => say(`${verb} ${id}: sent`))
    .catch((error) => say(`${verb} ${id} failed: ${error.message}`, true));
}

// Kill asks first: it is a crash on purpose.
let killing;
$("instances").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-verb]");
  if (!button) return;
  const { id, verb } = button.dataset;
  if (verb === "kill") {
    killing = id;
    $("confirm-title").textContent = `Kill ${id}?`;
    $("confirm-kill").showModal();
    $("confirm-cancel").focus();
    return;
  }
  button.disabled = true;
  act(id, verb);
});
$("confirm-cancel").addEventListener("click", () => $("confirm-kill").close());
$("confirm-ok").addEventListener("click", () => {
  $("confirm-kill").close();
  if (killing !== undefined) act(killing, "kill");
});
$("confirm-kill").addEventListener("close", () => {
  killing = undefined;
});
$("restart-all").addEventListener("click", () =>
  run("Restart all", "/restart", { strategy: "all" }),
);
$("restart-rolling").addEventListener("click", () =>
  run("Rolling restart", "/restart", { strategy: "rolling" }),
);
$("scale-count").addEventListener("input", () => {
  scaleTouched = true;
});
$("scale").addEventListener("click", () => {
  const instances = Number($("scale-count").value);
  scaleTouched = false;
  run(`Scale to ${instances}`, "/scale", { instances });
});

poll();
