import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The secret every instance signs session cookies with. Generated once and
 * kept in the data folder, so that logins survive a restart of the cluster
 * just as the sessions in Redis do.
 */
export async function loadOrCreateSessionSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, "session-secret");
  try {
    const existing = (await readFile(path, "utf8")).trim();
    if (existing.length >= 16) return existing;
  } catch {
    // first start
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
