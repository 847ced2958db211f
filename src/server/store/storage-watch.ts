import type { Logger } from "../logger.ts";
import { isOutOfMemory, type SendCommand } from "./lua-script.ts";

/** How long after the last refused write the storage still counts as full without a write since. */
const FULL_FOR_MS = 60_000;

/**
 * Notices when Redis refuses writes because it is at `maxmemory` (with
 * `noeviction`), for /readyz and the logs: one error line when it starts, one
 * warning when a write goes through again.
 */
export class StorageWatch {
  private refusedAt = 0;
  private full = false;
  private refusals = 0;

  constructor(private readonly log: Logger) {}

  /** Wraps a command sender so that every refusal for lack of memory is noticed. */
  watch(send: SendCommand): SendCommand {
    return <T>(args: string[], firstKey: string) =>
      send<T>(args, firstKey).catch((error: unknown) => {
        if (isOutOfMemory(error)) this.refused(args[0] ?? "");
        throw error;
      });
  }

  refused(command: string): void {
    this.refusedAt = Date.now();
    this.refusals += 1;
    if (this.full) return;
    this.full = true;
    this.log.error(
      { command },
      "Redis is at its memory limit (maxmemory, noeviction) and refuses writes: messages are answered with storage_full until memory is freed or the limit raised",
    );
  }

  /** A write went through: the storage takes data again. */
  stored(): void {
    if (!this.full) return;
    this.full = false;
    // At warn, like the start: whoever watches for the one sees the other.
    this.log.warn({ refused: this.refusals }, "Redis accepts writes again");
    this.refusals = 0;
  }

  /** "full" while writes are being refused (until a write succeeds, or a minute without refusals). */
  state(): "ok" | "full" {
    return this.full && Date.now() - this.refusedAt < FULL_FOR_MS ? "full" : "ok";
  }
}
