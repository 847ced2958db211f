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
  redisPid: number | undefined;
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
      instancePids: Array.isArray(data.instancePids)
        ? data.instancePids.filter((pid): pid is number => typeof pid === "number")
        : [],
    };
  } catch {
    return undefined;
  }
}

export function removeState(dataDir: string): void {
  rmSync(stateFilePath(dataDir), { force: true });
}
