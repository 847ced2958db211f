import { AppError, ErrorCode } from "../../protocol/index.ts";
import { onlineReplicas } from "./connections/shared.ts";
import type { SendCommand } from "./lua-script.ts";

/** How long a master's count of replicas is taken as still true. */
const REPLICA_COUNT_TTL_MS = 1000;

export interface ReplicaAckOptions {
  /** How long one WAIT may hold its connection. */
  timeoutMs: number;
  /**
   * True: without a replica's confirmation a send is refused. False
   * ("auto"): a master that has no replica online (its replica was promoted
   * after a failover, and none has come back yet) acknowledges alone.
   */
  required: boolean;
}

/** Where the commands for a key go now, as `RedisConnections.connectionMark` names it. */
export type ConnectionMark = (firstKey: string) => string | undefined;

/**
 * Holds a message's acknowledgement until a replica has it, with WAIT on the
 * connection that wrote it: WAIT counts the replicas that have every write
 * that connection made, so that no failover can take back what a client was
 * then shown.
 *
 * WAIT holds its connection until it answers, and every command behind it
 * waits too (session reads, catch-ups). So there is one WAIT at a time per
 * connection, and the sends that come meanwhile share the next one; and no
 * WAIT at all while the master has no replica online, which a count read at
 * most once a second per connection tells. One WAIT per room instead, each
 * timing out on a master that a failover had just left alone, queued one
 * instance's command connection for twenty seconds in the chaos run.
 */
export class ReplicaAck {
  private readonly waits = new Map<
    string,
    { running?: Promise<number>; queued?: Promise<number> }
  >();
  private readonly counts = new Map<string, { at: number; count: Promise<number> }>();

  constructor(
    private readonly send: SendCommand,
    private readonly connectionMark: ConnectionMark,
    private readonly options: ReplicaAckOptions,
  ) {}

  /** Names the connection the next write for `key` goes over; `confirm` takes it back. */
  mark(key: string): string | undefined {
    return this.connectionMark(key);
  }

  /**
   * Resolves once a replica has every write made on `mark`'s connection, or
   * the master has no replica and may acknowledge alone; otherwise rejects
   * with `unavailable`, and the client sends again (the message is stored,
   * its resend is found and confirmed then). A connection that moved or
   * reconnected after `mark` may have lost the write with its old master.
   */
  async confirm(mark: string | undefined, key: string): Promise<void> {
    this.still(mark, key);
    const online = await this.replicaCount(mark, key, false);
    const confirmed = online > 0 ? await this.replicated(mark, key) : 0;
    // Checked again after every wait, also before acknowledging alone.
    this.still(mark, key);
    if (confirmed > 0) return;
    if (this.options.required) {
      throw new AppError(ErrorCode.Unavailable, "no replica confirmed the message yet; retry");
    }
    // "auto": alone only while the master has no replica online, asked again after a WAIT timed out.
    if (online > 0 && (await this.replicaCount(mark, key, true)) > 0) {
      throw new AppError(ErrorCode.Unavailable, "no replica confirmed the message yet; retry");
    }
  }

  /** Refuses the send unless `key`'s commands still go over `mark`'s connection and session. */
  private still(mark: string | undefined, key: string): asserts mark is string {
    if (mark === undefined || this.connectionMark(key) !== mark) {
      throw new AppError(
        ErrorCode.Unavailable,
        "the connection to the master changed before a replica confirmed the message; retry",
      );
    }
  }

  /** The replicas online at the master of `mark`'s connection, read at most once a second (`fresh`: now). */
  private replicaCount(mark: string, key: string, fresh: boolean): Promise<number> {
    const now = Date.now();
    const known = this.counts.get(mark);
    if (known !== undefined && !fresh && now - known.at < REPLICA_COUNT_TTL_MS) return known.count;
    for (const [old, entry] of this.counts) {
      if (now - entry.at > 10 * REPLICA_COUNT_TTL_MS) this.counts.delete(old);
    }
    const count = this.send<string>(["INFO", "replication"], key).then(onlineReplicas);
    const entry = { at: now, count };
    this.counts.set(mark, entry);
    count.catch(() => {
      if (this.counts.get(mark) === entry) this.counts.delete(mark);
    });
    return count;
  }

  /**
   * How many replicas have this connection's writes so far. A WAIT covers
   * every write its connection made before it, so the sends that come while
   * one runs share the next.
   */
  private replicated(mark: string, key: string): Promise<number> {
    let slot = this.waits.get(mark);
    if (slot === undefined) {
      slot = {};
      this.waits.set(mark, slot);
    }
    const group = slot;
    const start = (): Promise<number> => {
      const running = this.send<number>(["WAIT", "1", String(this.options.timeoutMs)], key).finally(
        () => {
          if (group.running === running) group.running = undefined;
          if (group.running === undefined && group.queued === undefined) this.waits.delete(mark);
        },
      );
      group.running = running;
      return running;
    };
    if (group.running === undefined) return start();
    group.queued ??= group.running
      .catch(() => undefined)
      .then(() => {
        group.queued = undefined;
        return start();
      });
    return group.queued;
  }
}
