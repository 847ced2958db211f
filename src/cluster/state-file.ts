import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * `<dataDir>/cluster.json`: the pids of everything the supervisor runs, and
 * its router's port. If the supervisor itself is killed with SIGKILL (which
 * nothing can catch), this is how a person or a test finds what is left; the
 * CLI finds the running cluster's router here.
 */
export interface ClusterState {
  supervisorPid: number;
  routerPort: number | undefined;
  /** The router's HOST when one was set (it may listen on that address only). */
  routerHost?: string | undefined;
  /** The one redis-server's pid (kept for older readers: redisPids has it too). */
  redisPid: number | undefined;
  /** Every Redis process of the supervisor's own running now (a Sentinel set or a Cluster has several). */
  redisPids: number[];
  instancePids: number[];
}

export function stateFilePath(dataDir: string): string {
  return join(dataDir, "cluster.json");
}

export function writeState(dataDir: string, state: ClusterState): void {
  try {
    writeFileSync(stateFilePath(dataDir), `${JSON.stringify(state, null, 2)}\n`);
  } catch {
    // a missing state file only costs the backstop, never the cluster
  }
}

/** The state file's contents, or undefined when there is none (no cluster ran here, or it stopped). */
export function readState(dataDir: string): ClusterState | undefined {
  let text: string;
  try {
    text = readFileSync(stateFilePath(dataDir), "utf8");
  } catch {
    return undefined;
  }
  try {
    const data = JSON.parse(text) as Partial<ClusterState>;
    if (typeof data.supervisorPid !== "number") return undefined;
    return {
      supervisorPid: data.supervisorPid,
      routerPort: typeof data.routerPort === "number" ? data.routerPort : undefined,
      routerHost: typeof data.routerHost === "string" ? data.routerHost : undefined,
      redisPid: typeof data.redisPid === "number" ? data.redisPid : undefined,
      redisPids: numbers(data.redisPids),
      instancePids: numbers(data.instancePids),
    };
  } catch {
    return undefined;
  }
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((n): n is number => typeof n === "number") : [];
}

export function removeState(dataDir: string): void {
  rmSync(stateFilePath(dataDir), { force: true });
}
