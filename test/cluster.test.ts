import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import type { SwitchboardClient } from "../src/client/core/index.ts";
import { launchBrowser, watchPage } from "./helpers/browser.ts";
import { type ClusterInstance, portOpen, TestCluster } from "./helpers/cluster.ts";
import { connectedClient, registeredUser } from "./helpers/users.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);

function affinityIn(res: Response): string | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith("__VCAP_ID__="));
  return line?.split(";", 1)[0]?.slice("__VCAP_ID__=".length);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ids = (list: ClusterInstance[]) => list.map((i) => i.id).sort();

describe("npm start: its own Redis, three instances, the router", () => {
  let cluster: TestCluster;
  const clients: SwitchboardClient[] = [];
  let browser: Browser | undefined;

  before(async () => {
    cluster = await TestCluster.start({ instances: 3 });
  });

  after(async () => {
    for (const client of clients) client.close();
    await browser?.close();
    await cluster?.stop();
  });

  test("prints one line per part and the URL to open", async () => {
    const lines = cluster.output.split("\n");
    assert.ok(lines.some((l) => /^redis\s+redis:\/\/127\.0\.0\.1:\d+ \(pid \d+/.test(l)));
    assert.equal(
      lines.filter((l) => /^instance\s+i-[0-9a-f]{6}\s+running on port/.test(l)).length,
      3,
    );
    assert.ok(lines.includes(`Switchboard is running: open http://localhost:${cluster.port}`));
    assert.equal((await cluster.running()).length, 3);
    const redis = await cluster.redis();
    assert.equal(redis.topology, "single");
    assert.match(redis.describe, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      redis.nodes.map((n) => [n.role, n.up, n.pid]),
      [["master", true, cluster.statePids().at(-1)]],
    );
  });

  test("spreads new clients over all three instances", async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 9; i++) {
      const res = await fetch(`${cluster.url}/healthz`);
      assert.equal(res.status, 200);
      const id = res.headers.get("x-instance-id") ?? "";
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), ids(await cluster.running()));
    assert.deepEqual([...seen.values()], [3, 3, 3]);
  });

  test("keeps a client on its instance; after a kill it moves with a new __VCAP_ID__", async () => {
    const user = await registeredUser(cluster.url);
    const home = user.jar.get("__VCAP_ID__");
    assert.ok(home, "the login response set __VCAP_ID__");
    assert.ok(user.jar.get("JSESSIONID"));
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${cluster.url}/api/session`, {
        headers: { cookie: user.jar.header() ?? "" },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-instance-id"), home);
      // The instance may refresh the session cookie (rolling expiry); the affinity then stays.
      assert.ok([undefined, home].includes(affinityIn(res)));
    }
    const before = await cluster.running();
    const killed = before.find((i) => i.id === home);
    assert.ok(killed);

    await cluster.admin("POST", `/instances/${home}/kill`);
    const res = await fetch(`${cluster.url}/api/session`, {
      headers: { cookie: user.jar.header() ?? "" },
    });
    assert.equal(res.status, 200, "still logged in, on another instance");
    const now = res.headers.get("x-instance-id");
    assert.ok(now !== null && now !== home);
    assert.equal(affinityIn(res), now, "a new __VCAP_ID__ names the new instance");
    user.jar.store(res.headers.getSetCookie());
    const again = await fetch(`${cluster.url}/api/session`, {
      headers: { cookie: user.jar.header() ?? "" },
    });
    assert.equal(again.headers.get("x-instance-id"), now, "and it sticks there");

    // The kill's answer may come before the supervisor saw the exit: wait for both.
    const after = await cluster.waitForInstances(
      (list) =>
        list.filter((i) => i.state === "running").length === 3 &&
        list.find((i) => i.id === home)?.state === "exited",
    );
    const replacement = after.find((i) => i.state === "running" && !ids(before).includes(i.id));
    assert.ok(replacement, "a new instance replaced the killed one");
    assert.ok(!before.some((i) => i.port === replacement.port), "on a new port");
    assert.equal(after.find((i) => i.id === home)?.state, "exited");
  });

  test("a Socket.IO client on long-polling keeps working across a kill of its instance", async () => {
    const user = await registeredUser(cluster.url);
    const client = await connectedClient(cluster.url, user.http, { transports: ["polling"] });
    clients.push(client);
    const status = client.status;
    assert.equal(status.state, "connected");
    const first = status.state === "connected" ? status.instance : "";
    const lobby = () => client.rooms.get("lobby")?.messages ?? [];
    client.send("lobby", "before the kill");
    await until(() => lobby().some((m) => m.text === "before the kill"));

    await cluster.admin("POST", `/instances/${first}/kill`);
    await until(
      () => client.status.state === "connected" && client.status.instance !== first,
      15_000,
    );
    client.send("lobby", "after the kill");
    await until(() => lobby().some((m) => m.text === "after the kill"));
    const texts = lobby().map((m) => m.text);
    assert.equal(texts.filter((t) => t === "before the kill").length, 1);
    assert.equal(texts.filter((t) => t === "after the kill").length, 1);
    client.close();
    await cluster.waitForInstances(
      (list) => list.filter((i) => i.state === "running").length === 3,
    );
  });

  test("scales to 4 and back to 2, draining the ones that go", async () => {
    const up = (await cluster.admin("POST", "/scale", { instances: 4 })) as ClusterInstance[];
    assert.equal(up.filter((i) => i.state === "running").length, 4);
    const down = (await cluster.admin("POST", "/scale", { instances: 2 })) as ClusterInstance[];
    const running = down.filter((i) => i.state === "running");
    assert.equal(running.length, 2);
    assert.ok(cluster.output.includes("scale     4 -> 2"));
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${cluster.url}/healthz`);
      assert.ok(ids(running).includes(res.headers.get("x-instance-id") ?? ""));
    }
    const bad = await fetch(`${cluster.url}/_cluster/scale`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ instances: 0 }),
    });
    assert.equal(bad.status, 400);
  });

  for (const strategy of ["rolling", "all"] as const) {
    test(`restart (${strategy}) replaces every instance with new ids on new ports`, async () => {
      const before = await cluster.running();
      const after = (await cluster.admin("POST", "/restart", { strategy })) as ClusterInstance[];
      const running = after.filter((i) => i.state === "running");
      assert.equal(running.length, before.length);
      for (const instance of running) {
        assert.ok(!before.some((b) => b.id === instance.id || b.port === instance.port));
      }
      const res = await fetch(`${cluster.url}/healthz`);
      assert.ok(ids(running).includes(res.headers.get("x-instance-id") ?? ""));
    });
  }

  test("the dashboard shows the instances live and kills one from a button", async () => {
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1100, height: 560 } });
    const { problems } = watchPage(page);
    await page.goto(`http://localhost:${cluster.port}/_cluster`);
    const rows = page.locator("#instances tr");
    const runningRows = page.locator("#instances tr.running");
    await runningRows.nth(1).waitFor();
    assert.equal(await runningRows.count(), 2);
    await page.getByText(/2 of 2 instances running/).waitFor();
    await mkdir(`${ROOT}test-results`, { recursive: true });
    const shot = await page.screenshot({ path: `${ROOT}test-results/cluster-dashboard.png` });
    assert.ok(shot.length > 10_000, "a real screenshot");

    const victim = (await runningRows.first().locator("td.id").textContent()) ?? "";
    await page.getByRole("button", { name: `Kill ${victim}` }).click();
    // Kill asks first.
    await page
      .getByRole("dialog", { name: `Kill ${victim}?` })
      .getByRole("button", { name: "Kill" })
      .click();
    await page.locator("#exited li", { hasText: victim }).waitFor();
    await rows.filter({ hasText: victim }).waitFor({ state: "detached" });
    await page.waitForFunction(
      () => document.querySelectorAll("#instances tr.running").length === 2,
      undefined,
      { timeout: 20_000 },
    );
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("the CLI shows the status and kills by id", async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ["--import", "tsx", "src/cluster/cli.ts", ...args], {
        cwd: ROOT,
        env: { ...process.env, ROUTER_URL: cluster.url },
      });
    const running = await cluster.running();
    const status = await cli("status");
    for (const instance of running)
      assert.match(status.stdout, new RegExp(`${instance.id}\\s+running`));
    const victim = running[0]?.id ?? "";
    const kill = await cli("kill", victim, "--url", cluster.url);
    assert.match(kill.stdout, new RegExp(`${victim} killed`));
    await assert.rejects(cli("kill", "i-nope00"), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? "", /no running instance i-nope00/);
      return true;
    });
    await assert.rejects(cli("frobnicate"), (error: { code?: number }) => error.code === 2);
    await cluster.waitForInstances(
      (list) =>
        list.filter((i) => i.state === "running").length === 2 &&
        list.some((i) => i.id === victim && i.state === "exited"),
    );
  });

  test("stopping the supervisor leaves no process and no open port behind", async () => {
    await cluster.instances();
    for (const pid of cluster.statePids()) cluster.seenPids.add(pid);
    const killedByHelper = await cluster.stop();
    assert.deepEqual(killedByHelper, [], "the supervisor stopped everything itself");
    assert.equal(cluster.exit?.code, 0);
    assert.match(cluster.output, /Switchboard stopped/);
    assert.ok(cluster.seenPids.size >= 8, "the supervisor, Redis and every instance were seen");
    for (const port of cluster.seenPorts) assert.equal(await portOpen(port), false, `port ${port}`);
  });
});

describe("a cluster of one", () => {
  let cluster: TestCluster | undefined;

  after(async () => {
    await cluster?.stop();
  });

  test("replaces its last instance at once after a crash, not after RESTART_DELAY_MS", async () => {
    cluster = await TestCluster.start({ instances: 1, env: { RESTART_DELAY_MS: "60000" } });
    const [only] = await cluster.running();
    assert.ok(only);
    await cluster.admin("POST", `/instances/${only.id}/kill`);
    const after = await cluster.waitForInstances(
      (list) =>
        list.some((i) => i.state === "running") &&
        list.find((i) => i.id === only.id)?.state === "exited",
      20_000,
    );
    assert.ok(after.some((i) => i.state === "running" && i.id !== only.id));
    assert.match(cluster.output, new RegExp(`${only.id}\\s+exited .*replacing it in 0 ms`));
    const res = await fetch(`${cluster.url}/healthz`);
    assert.equal(res.status, 200, "the cluster serves again");
  });
});
