import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * `<dataDir>/cluster.json`: the pids of everything the supervisor runs. If the
 * supervisor itself is killed with SIGKILL (which nothing can catch), this is
 * how a person or a test finds what is left.
 */
export interface ClusterState {
  supervisorPid: number;
  routerPort: number | undefined;
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

export function removeState(dataDir: string): void {
  rmSync(stateFilePath(dataDir), { force: true });
}
