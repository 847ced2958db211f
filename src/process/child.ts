import type { ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { connect } from "node:net";

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Resolves when the child has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<ExitInfo> {
  if (!isAlive(child)) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals });
  }
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/**
 * The one way to stop a child: `signal` (SIGTERM: it may drain), then SIGKILL
 * when it is still there after `boundMs`; resolves on exit. A `signal` of
 * null waits for the child to exit by itself, within the same bound.
 */
export async function terminate(
  child: ChildProcess,
  boundMs: number,
  signal: NodeJS.Signals | null = "SIGTERM",
): Promise<ExitInfo> {
  const exited = exitOf(child);
  if (!isAlive(child)) return exited;
  if (signal !== null) child.kill(signal);
  const timer = setTimeout(() => {
    if (isAlive(child)) child.kill("SIGKILL");
  }, boundMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `ready` until it holds: the one way to wait for a child to be
 * healthy. Rejects when `gaveUp` says the child is gone (with its reason) or
 * when `timeoutMs` runs out.
 */
export async function waitUntil(
  ready: () => Promise<boolean>,
  options: {
    timeoutMs: number;
    intervalMs?: number;
    what: string;
    gaveUp?: () => string | undefined;
  },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await ready()) return;
    const gone = options.gaveUp?.();
    if (gone !== undefined) throw new Error(`${options.what} ${gone}`);
    if (Date.now() > deadline) {
      throw new Error(`${options.what} was not ready within ${options.timeoutMs} ms`);
    }
    await delay(options.intervalMs ?? 50);
  }
}

/** True when `GET <url>` answers 2xx within a second. */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** For `waitUntil`'s `gaveUp`: why a child that is starting is gone, or undefined while it runs. */
export function startFailure(child: ChildProcess): string | undefined {
  if (isAlive(child)) return undefined;
  const exit = { code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null };
  return `exited while starting (${describeExit(exit)})`;
}

export function describeExit({ code, signal }: ExitInfo): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

/**
 * Sends a child's stdout and stderr to a log file, and keeps the last lines in
 * memory so that a failure can be explained without opening the file.
 */
export class OutputLog {
  private readonly lines: string[] = [];
  private readonly file: WriteStream;
  private partial = "";

  constructor(
    readonly path: string,
    private readonly keep = 20,
  ) {
    this.file = createWriteStream(path, { flags: "a" });
    this.file.on("error", () => {});
  }

  attach(child: ChildProcess): void {
    const take = (chunk: Buffer) => {
      this.file.write(chunk);
      const text = this.partial + chunk.toString("utf8");
      const parts = text.split("\n");
      this.partial = parts.pop() ?? "";
      for (const line of parts) this.push(line);
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    child.once("exit", () => this.file.end());
  }

  tail(): string[] {
    return this.partial === "" ? [...this.lines] : [...this.lines, this.partial];
  }

  private push(line: string): void {
    if (line.trim() === "") return;
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
  }
}

/** True when something accepts TCP connections on the loopback port. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
