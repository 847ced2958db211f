// The cluster dashboard: polls /_cluster/stats every second and draws it.
import type { ClusterStats } from "../admin-contract.ts";
import { fetchStats, post } from "./api.ts";
import { RouterView, renderInstanceCharts } from "./charts-view.ts";
import { confirmDialog } from "./confirm.ts";
import { byId } from "./dom.ts";
import { plural } from "./format.ts";
import { renderInstances } from "./instances-view.ts";
import { renderRedis } from "./redis-view.ts";

const POLL_MS = 1000;

const INSTANCE_KILL_TEXT =
  "SIGKILL, as a crash would. Its users reconnect to the other instances, and a new one " +
  "replaces it shortly.";
const REDIS_KILL_TEXT =
  "SIGKILL, as a crash would. Where the topology has replicas, one of them takes over; " +
  "until then, sends fail and the chat says so.";

function summarize(text: string, tone: "ok" | "busy" | "bad"): void {
  byId("summary-text").textContent = text;
  byId("summary").dataset.tone = tone;
}

function say(text: string, isError = false): void {
  const status = byId("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const routerView = new RouterView();

function render(stats: ClusterStats): void {
  const running = stats.instances.filter((i) => i.state === "running").length;
  summarize(
    `${running} of ${plural(stats.desired, "instance")} running · ${plural(stats.sockets, "socket")} · ` +
      `${stats.messagesPerSecond} messages/s · Redis ${stats.redis}`,
    running >= stats.desired ? "ok" : "busy",
  );
  renderInstances(stats);
  routerView.render(stats);
  renderRedis(stats.redisTopology);
  renderInstanceCharts(stats);
}

async function run(label: string, path: string, body: unknown): Promise<void> {
  const buttons = document.querySelectorAll<HTMLButtonElement>(".controls button");
  for (const b of buttons) b.disabled = true;
  say(`${label}…`);
  try {
    await post(path, body);
    say(`${label}: done`);
  } catch (error) {
    say(`${label} failed: ${messageOf(error)}`, true);
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

let scaleTouched = false;

async function poll(): Promise<void> {
  try {
    const stats = await fetchStats();
    render(stats);
    if (!scaleTouched) byId<HTMLInputElement>("scale-count").value = String(stats.desired);
  } catch (error) {
    summarize(`Cannot reach the cluster (${messageOf(error)}); retrying…`, "bad");
  } finally {
    setTimeout(() => void poll(), POLL_MS);
  }
}

function act(label: string, path: string): void {
  post(path)
    .then(() => say(`${label}: sent`))
    .catch((error: unknown) => say(`${label} failed: ${messageOf(error)}`, true));
}

/** The button with `data-verb` that a click landed in, if any. */
function actionOf(event: Event): { button: HTMLButtonElement; id: string; verb: string } | null {
  if (!(event.target instanceof Element)) return null;
  const button = event.target.closest<HTMLButtonElement>("button[data-verb]");
  const id = button?.dataset.id;
  const verb = button?.dataset.verb;
  if (button === null || id === undefined || verb === undefined) return null;
  return { button, id, verb };
}

const confirm = confirmDialog();

byId("instances").addEventListener("click", (event) => {
  const action = actionOf(event);
  if (action === null) return;
  const { button, id, verb } = action;
  const path = `/instances/${encodeURIComponent(id)}/${verb}`;
  if (verb === "kill") {
    confirm.ask({
      title: `Kill ${id}?`,
      text: INSTANCE_KILL_TEXT,
      run: () => act(`kill ${id}`, path),
    });
    return;
  }
  button.disabled = true;
  act(`${verb} ${id}`, path);
});
byId("redis-nodes").addEventListener("click", (event) => {
  const action = actionOf(event);
  if (action === null || action.verb !== "kill-redis") return;
  const { id } = action;
  confirm.ask({
    title: `Kill ${id}?`,
    text: REDIS_KILL_TEXT,
    run: () => act(`kill ${id}`, `/redis/${encodeURIComponent(id)}/kill`),
  });
});
byId("restart-all").addEventListener("click", () => {
  void run("Restart all", "/restart", { strategy: "all" });
});
byId("restart-rolling").addEventListener("click", () => {
  void run("Rolling restart", "/restart", { strategy: "rolling" });
});
byId("scale-count").addEventListener("input", () => {
  scaleTouched = true;
});
byId("scale").addEventListener("click", () => {
  const instances = Number(byId<HTMLInputElement>("scale-count").value);
  scaleTouched = false;
  void run(`Scale to ${instances}`, "/scale", { instances });
});

void poll();
