import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { AppError, ErrorCode } from "../../protocol/index.ts";

/** Sends one raw command; the key it touches first routes it on a Redis Cluster. */
export type SendCommand = <T>(args: string[], firstKey: string) => Promise<T>;

/** Redis refused a write because it is at `maxmemory` (with `noeviction`). */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("OOM ");
}

/** The error a user gets for a write that Redis refused for lack of memory: retryable. */
export function storageFull(cause: unknown): AppError {
  return new AppError(
    ErrorCode.StorageFull,
    "storage is full for the moment; nothing was stored, try again shortly",
    { cause, retryAfter: 2 },
  );
}

/**
 * A Lua script from `lua/<name>.lua`, run with EVALSHA and loaded with EVAL
 * when Redis does not know it (after a restart of Redis, for example).
 */
export class LuaScript {
  private readonly source: string;
  private readonly sha: string;

  constructor(name: string) {
    this.source = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8");
    this.sha = createHash("sha1").update(this.source).digest("hex");
  }

  async run<T>(
    send: SendCommand,
    keys: [string, ...string[]],
    args: (string | number)[],
  ): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      try {
        return await send<T>(["EVALSHA", this.sha, ...tail], keys[0]);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return await send<T>(["EVAL", this.source, ...tail], keys[0]);
      }
    } catch (error) {
      // A script's first write fails when Redis is at maxmemory; Redis decides
      // that before the script runs, so nothing of it was written.
      if (isOutOfMemory(error)) throw storageFull(error);
      throw error;
    }
  }
}
