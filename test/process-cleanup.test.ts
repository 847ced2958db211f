import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pidAlive } from "../src/process/index.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const from = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, path)).href);

test("processes a test file started are ended when the runner times the file out", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sb-cleanup-"));
  const pidsFile = join(dir, "pids.json");
  // A test file that starts a Redis, an instance and a one-instance cluster,
  // writes down their pids, and hangs: its after() hooks never get to run.
  await writeFile(
    join(dir, "hangs.test.ts"),
    `import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { ClusterProcess } from ${from("bench/harness/cluster-process.ts")};
import { RedisServer } from ${from("src/cluster/redis/server.ts")};
import { TestInstance } from ${from("test/helpers/instance.ts")};
test("hangs", async () => {
  const redis = await RedisServer.start();
  const [instance, cluster] = await Promise.all([
    TestInstance.start({ REDIS_URL: redis.url, SESSION_SECRET: "cleanup-secret-0123456789" }),
    ClusterProcess.start({ instances: 1 }),
  ]);
  const pids = [redis.pid, instance.child.pid, cluster.child.pid, ...(await cluster.instances()).map((i) => i.pid), ...cluster.printedPids()];
  writeFileSync(${JSON.stringify(pidsFile)}, JSON.stringify(pids));
  await new Promise(() => setInterval(() => {}, 1000));
});
`,
  );
  let pids: number[] = [];
  try {
    // The runner's own exit, not the end of its output: what it leaves behind holds its stdio.
    const runner = spawn(
      process.execPath,
      ["--import", "tsx", "--test", "--test-timeout=10000", join(dir, "hangs.test.ts")],
      // Without our runner's NODE_TEST_CONTEXT, so that this is a runner of its own.
      {
        cwd: ROOT,
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, NODE_ENV: "test" },
        stdio: "ignore",
      },
    );
    // What the file leaves behind keeps the runner waiting for its output: give up after 40 s.
    const run = await new Promise<{ code: number | null }>((resolve) => {
      const timer = setTimeout(() => {
        runner.kill("SIGKILL");
        resolve({ code: null });
      }, 40_000);
      runner.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ code });
      });
    });
    pids = JSON.parse(await readFile(pidsFile, "utf8").catch(() => "[]")) as number[];
    assert.ok(pids.length >= 5, "the file got its processes up before its timeout");
    const deadline = Date.now() + 3000;
    while (pids.some(pidAlive) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(pids.filter(pidAlive), [], "no process of the timed-out file outlives it");
    assert.notEqual(run.code, null, "the runner ended by itself");
    assert.notEqual(run.code, 0, "the hanging file failed");
  } finally {
    for (const pid of pids.filter(pidAlive)) process.kill(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
