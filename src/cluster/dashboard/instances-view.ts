import type { ClusterStats, InstanceStats } from "../admin-contract.ts";
import { byId, el } from "./dom.ts";
import { duration, secondsSince } from "./format.ts";

const MAX_EXITED_ROWS = 5;

function cell(text: string, className?: string): HTMLTableCellElement {
  return el("td", className, text);
}

/** A button that says what it does to which instance, for screen readers too. */
export function actionButton(label: string, id: string, verb: string): HTMLButtonElement {
  const button = el("button", undefined, label);
  button.type = "button";
  button.dataset.id = id;
  button.dataset.verb = verb;
  button.setAttribute("aria-label", `${label} ${id}`);
  return button;
}

function row(instance: InstanceStats, now: number): HTMLTableRowElement {
  const tr = el("tr", instance.state);
  tr.append(
    cell(instance.id, "id"),
    cell(instance.state, `state state-${instance.state}`),
    cell(String(instance.port), "number"),
    cell(instance.pid === undefined ? "" : String(instance.pid), "number"),
    cell(String(instance.sockets), "number"),
    cell(String(instance.routerConnections), "number"),
    cell(instance.messagesPerSecond.toFixed(1), "number"),
    cell(duration(secondsSince(instance.startedAt, now))),
  );
  const actions = el("td", "actions");
  if (instance.state === "running" || instance.state === "starting") {
    actions.append(
      actionButton("Stop", instance.id, "stop"),
      actionButton("Kill", instance.id, "kill"),
    );
  }
  tr.append(actions);
  return tr;
}

/** The table of live instances, and the ones that exited lately folded into a short list. */
export function renderInstances(stats: ClusterStats): void {
  const now = Date.parse(stats.at);
  const exitedAt = (i: InstanceStats) => Date.parse(i.exitedAt ?? stats.at);
  // Newest first; the supervisor forgets them after a while.
  const gone = stats.instances
    .filter((i) => i.state === "exited")
    .sort((a, b) => exitedAt(b) - exitedAt(a))
    .slice(0, MAX_EXITED_ROWS);
  byId("exited").replaceChildren(
    ...gone.map((instance) => {
      const ago = duration(secondsSince(instance.exitedAt ?? stats.at, now));
      return el(
        "li",
        undefined,
        el("span", "id", instance.id),
        ` · ${instance.exit ?? "exited"} · ${ago} ago`,
      );
    }),
  );
  byId("exited-section").hidden = gone.length === 0;
  byId("instances").replaceChildren(
    ...stats.instances.filter((i) => i.state !== "exited").map((i) => row(i, now)),
  );
}
