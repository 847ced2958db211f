import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TestCluster } from "./helpers/cluster.ts";
import { registeredUser } from "./helpers/users.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);
/** tsx by its full address, so that the CLI also runs from folders without node_modules. */
const TSX = import.meta.resolve("tsx");

/** `npm run cluster -- ...` with neither --url nor ROUTER_URL, from `cwd`, with DATA_DIR as given. */
function cli(cwd: string, env: Record<string, string>, ...args: string[]) {
  const { ROUTER_URL: _ignored, DATA_DIR: _own, ...rest } = process.env;
  return run(process.execPath, ["--import", TSX, join(ROOT, "src/cluster/cli.ts"), ...args], {
    cwd,
    env: { ...rest, ...env },
  });
}

describe("the cluster CLI finds the running cluster by itself", () => {
  let cluster: TestCluster | undefined;
  const dirs: string[] = [];

  before(async () => {
    // On a random port, not 3000: only its state file says where it is.
    cluster = await TestCluster.start({ instances: 1 });
  });

  after(async () => {
    await cluster?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test("status and kill reach the router named in DATA_DIR/cluster.json", async () => {
    if (cluster === undefined) throw new Error("no cluster");
    const [only] = await cluster.running();
    assert.ok(only);
    const status = await cli(ROOT, { DATA_DIR: cluster.dataDir }, "status");
    assert.match(status.stdout, new RegExp(`${only.id}\\s+running\\s+${only.port}`));

    const kill = await cli(ROOT, { DATA_DIR: cluster.dataDir }, "kill", only.id);
    assert.match(kill.stdout, new RegExp(`${only.id} killed`));
    await cluster.waitForInstances((list) =>
      list.some((i) => i.state === "running" && i.id !== only.id),
    );
  });

  test("redis lists the node; redis-kill and redis-start crash and revive it with its data", async () => {
    if (cluster === undefined) throw new Error("no cluster");
    const env = { DATA_DIR: cluster.dataDir };
    const user = await registeredUser(cluster.url);
    const registeredAt = Date.now();
    const [only] = (await cluster.redis()).nodes;
    assert.ok(only !== undefined);
    const list = await cli(ROOT, env, "redis");
    assert.match(list.stdout, /^redis:\/\/127\.0\.0\.1:\d+/);
    assert.match(
      list.stdout,
      new RegExp(`^${only.id}\\s+master\\s+${only.port}\\s+${only.pid}\\s+yes`, "m"),
    );

    // Redis writes its append-only file to disk once a second: a crash loses at most that.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, registeredAt + 1500 - Date.now())),
    );
    const kill = await cli(ROOT, env, "redis-kill", only.id);
    assert.match(kill.stdout, new RegExp(`${only.id} killed`));
    assert.match(
      (await cli(ROOT, env, "redis")).stdout,
      new RegExp(`^${only.id}\\s+master\\s+${only.port}\\s+no`, "m"),
    );
    await assert.rejects(
      cli(ROOT, env, "redis-kill", only.id),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? "", /HTTP 409: .* is not running/);
        return true;
      },
    );
    const start = await cli(ROOT, env, "redis-start", only.id);
    assert.match(start.stdout, new RegExp(`${only.id} started again \\(pid \\d+\\)`));
    // The append-only file brought the session back: the user is still logged in.
    const deadline = Date.now() + 15_000;
    while ((await user.http.session().catch(() => undefined)) === undefined) {
      assert.ok(Date.now() < deadline, "the session is back within 15 s");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await assert.rejects(cli(ROOT, env, "redis-start", "redis-1"), /no Redis node redis-1/);
  });

  test("the default DATA_DIR is .data in the folder it is run from", async () => {
    if (cluster === undefined) throw new Error("no cluster");
    // The cluster's data folder seen as the .data of a project folder.
    const project = await mkdtemp(join(tmpdir(), "sb-cli-"));
    dirs.push(project);
    await symlink(cluster.dataDir, join(project, ".data"));
    const status = await cli(project, {}, "status");
    assert.match(status.stdout, /^ID\s+STATE/m);
    assert.match(status.stdout, /running/);
  });

  test("without a running cluster it says how to start or name one", async () => {
    const empty = await mkdtemp(join(tmpdir(), "sb-cli-"));
    dirs.push(empty);
    await assert.rejects(cli(empty, {}, "status"), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? "", /no running cluster found \(no \.data\/cluster\.json\)/);
      assert.match(error.stderr ?? "", /npm start.*--url URL or ROUTER_URL/);
      return true;
    });

    // A state file left by a supervisor that is gone (SIGKILLed): not taken for a running cluster.
    await writeFile(
      join(empty, "cluster.json"),
      JSON.stringify({ supervisorPid: 2 ** 22 + 1, routerPort: 1, instancePids: [] }),
    );
    await assert.rejects(
      cli(ROOT, { DATA_DIR: empty }, "status"),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? "", /is not running \(its supervisor, pid \d+, is gone\)/);
        return true;
      },
    );
  });
});
