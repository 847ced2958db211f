import type { ChildProcess } from "node:child_process";

/**
 * Ends the processes this program started when this program is ended. A
 * test file that runs past the test runner's timeout is sent SIGTERM, and its
 * `after` hooks never run: without this, the instances, Redis servers and
 * supervisors it started would outlive it. Every helper that starts a
 * process lists it here; on SIGTERM, SIGINT, SIGHUP or exit, every listed
 * process still running gets SIGKILL. Nothing that is not listed is touched.
 */
const sources = new Set<() => Iterable<number>>();
let installed = false;

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Lists a child until it exits (Node knows when its own children end). */
export function endWithThisProcess(child: ChildProcess): void {
  const pids = () =>
    child.pid !== undefined && child.exitCode === null && child.signalCode === null
      ? [child.pid]
      : [];
  const forget = endPidsWithThisProcess(pids);
  child.once("exit", forget);
}

/**
 * Lists the pids `pids()` names at the time this program ends: for processes
 * that are not our own children (a supervisor's instances), known only as
 * they are reported. Returns the function that takes the listing back.
 */
export function endPidsWithThisProcess(pids: () => Iterable<number>): () => void {
  install();
  sources.add(pids);
  return () => {
    sources.delete(pids);
  };
}

function endAll(): void {
  for (const source of sources) {
    for (const pid of source()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
  sources.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once("exit", endAll);
  for (const [signal, signalNumber] of [
    ["SIGTERM", 15],
    ["SIGINT", 2],
    ["SIGHUP", 1],
  ] as const) {
    process.on(signal, () => {
      endAll();
      // With no other listener, this one would swallow the signal: end as its default would.
      if (process.listenerCount(signal) === 1) process.exit(128 + signalNumber);
    });
  }
}
