/**
 * The text of every benchmark message carries who sent it and when, so that
 * each receiver can measure the delivery latency and tell each message apart:
 * `sb|<run tag>|<step>|<worker>|<seq>|<sent at, ms>|<sender's instance>`. All
 * processes run on one machine, so their clocks agree to well under a
 * millisecond.
 */
export interface Stamp {
  tag: string;
  step: number;
  worker: number;
  seq: number;
  sentAt: number;
  /** The instance the sender was connected to ("" when it did not know). */
  instance: string;
}

/** Milliseconds since the Unix epoch with sub-millisecond precision. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function stampText(stamp: Stamp): string {
  return `sb|${stamp.tag}|${stamp.step}|${stamp.worker}|${stamp.seq}|${stamp.sentAt.toFixed(3)}|${stamp.instance}`;
}

export function readStamp(text: string): Stamp | undefined {
  const parts = text.split("|");
  if (parts.length !== 7 || parts[0] !== "sb") return undefined;
  const [, tag = "", step, worker, seq, sentAt, instance = ""] = parts;
  const stamp = {
    tag,
    step: Number(step),
    worker: Number(worker),
    seq: Number(seq),
    sentAt: Number(sentAt),
    instance,
  };
  if (![stamp.step, stamp.worker, stamp.seq, stamp.sentAt].every(Number.isFinite)) return undefined;
  return stamp;
}
