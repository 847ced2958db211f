import type { RedisNodeInfo, RedisStats } from "../admin-contract.ts";
import { byId, el } from "./dom.ts";
import { actionButton } from "./instances-view.ts";

function badge(text: string, tone: string): HTMLSpanElement {
  return el("span", `node-badge node-badge-${tone}`, text);
}

function nodeItem(node: RedisNodeInfo): HTMLLIElement {
  const where =
    node.role === "replica" && node.masterPort !== undefined
      ? `port ${node.port}, follows ${node.masterPort}`
      : `port ${node.port}`;
  const item = el(
    "li",
    node.up ? "redis-node" : "redis-node down",
    el("span", "id", node.id),
    el("span", "redis-where", where),
    badge(node.role, node.role),
    badge(node.up ? "up" : "down", node.up ? "up" : "down"),
  );
  const kill = actionButton("Kill", node.id, "kill-redis");
  kill.disabled = !node.up;
  item.append(kill);
  return item;
}

/** The Redis panel: what the instances use, and the supervisor's own nodes with a Kill each. */
export function renderRedis(redis: RedisStats): void {
  byId("redis-describe").textContent = `${redis.topology} · ${redis.describe}`;
  const empty = byId("redis-empty");
  empty.hidden = redis.nodes.length > 0;
  empty.textContent =
    redis.topology === "external"
      ? "This Redis was not started by the supervisor (REDIS_URL is set): its nodes are not listed here."
      : "The supervisor reports no Redis nodes.";
  byId("redis-nodes").replaceChildren(...redis.nodes.map(nodeItem));
}
