import { Histogram } from "./histogram.ts";
import type { Receipts } from "./ipc.ts";

/**
 * Deliveries counted and timed: a worker's own for the current window, or
 * the sum of every worker's that the load generator collects.
 */
export class Tally {
  unique = 0;
  duplicates = 0;
  late = 0;
  sendErrors = 0;
  resets = 0;
  sent = 0;
  presenceFrames = 0;
  presenceCountFrames = 0;
  /** CPU seconds of the workers added together (a worker reports its own in `receipts`). */
  cpuSeconds = 0;
  readonly latency = new Histogram();
  readonly toServer = new Histogram();
  readonly fromServer = new Histogram();
  readonly sameInstance = new Histogram();
  readonly otherInstances = new Histogram();

  /** Adds one worker's receipts. */
  add(r: Receipts): void {
    this.unique += r.unique;
    this.duplicates += r.duplicates;
    this.late += r.late;
    this.sendErrors += r.sendErrors;
    this.resets += r.resets;
    this.sent += r.sent;
    this.presenceFrames += r.presenceFrames;
    this.presenceCountFrames += r.presenceCountFrames;
    this.cpuSeconds += r.cpuSeconds;
    this.latency.merge(r.latency);
    this.toServer.merge(r.toServer);
    this.fromServer.merge(r.fromServer);
    this.sameInstance.merge(r.sameInstance);
    this.otherInstances.merge(r.otherInstances);
  }

  /** What a worker sends its parent. */
  receipts(cpuSeconds: number): Receipts {
    return {
      unique: this.unique,
      duplicates: this.duplicates,
      late: this.late,
      sendErrors: this.sendErrors,
      resets: this.resets,
      sent: this.sent,
      presenceFrames: this.presenceFrames,
      presenceCountFrames: this.presenceCountFrames,
      latency: this.latency.toData(),
      toServer: this.toServer.toData(),
      fromServer: this.fromServer.toData(),
      sameInstance: this.sameInstance.toData(),
      otherInstances: this.otherInstances.toData(),
      cpuSeconds,
    };
  }
}
