import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { SCREENSHOTS, watchPage } from "./helpers/browser.ts";
import { browserCluster } from "./helpers/browser-cluster.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);

describe("the cluster dashboard (Chromium) and the CLI's status", () => {
  const fixture = browserCluster({ supervisor: true, instances: 1 });
  before(() => mkdirSync(SCREENSHOTS, { recursive: true }));

  test("says '1 socket', asks before it kills, and folds the exited instance into a short list", async () => {
    const cluster = fixture.cluster;
    await fixture.nodeUser();
    const page = await fixture.newPage({ viewport: { width: 1100, height: 640 } });
    const { problems } = watchPage(page);
    await page.goto(`${cluster.url}/_cluster`);
    await page.getByText(/^1 of 1 instance running · 1 socket · /).waitFor();
    // The chat's styles: its top bar and its buttons, not the browser's.
    const look = await page.evaluate(() => {
      const bar = document.querySelector(".topbar");
      const scale = document.getElementById("scale");
      return {
        bar: bar === null ? "" : getComputedStyle(bar).display,
        radius: scale === null ? "" : getComputedStyle(scale).borderTopLeftRadius,
      };
    });
    assert.deepEqual(look, { bar: "flex", radius: "8px" });

    const [only] = await cluster.running();
    assert.ok(only);
    const kill = page.getByRole("button", { name: `Kill ${only.id}` });
    const dialog = page.getByRole("dialog", { name: `Kill ${only.id}?` });

    // Cancelled: nothing happens.
    await kill.click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    assert.equal((await cluster.running())[0]?.id, only.id, "still running");

    await kill.click();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-confirm-kill.png") });
    await dialog.getByRole("button", { name: "Kill" }).click();
    const exited = page.locator("#exited li", { hasText: only.id });
    await exited.waitFor();
    assert.match((await exited.textContent()) ?? "", /signal SIGKILL · \d+ s ago/);
    await page.locator("#instances tr.running").first().waitFor();
    assert.equal(await page.locator("#instances tr", { hasText: only.id }).count(), 0);
    await page.getByText(/^1 of 1 instance running/).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard.png") });
    assert.deepEqual(problems, []);

    // The CLI's status: the table holds the live instance, the killed one is below it.
    const status = await run(
      process.execPath,
      ["--import", "tsx", "src/cluster/cli.ts", "status"],
      {
        cwd: ROOT,
        env: { ...process.env, ROUTER_URL: cluster.url },
      },
    );
    const [table, below] = status.stdout.split("recently exited:");
    assert.ok(below !== undefined, status.stdout);
    assert.doesNotMatch(table ?? "", new RegExp(only.id));
    assert.match(table ?? "", /running/);
    assert.match(below, new RegExp(`${only.id}\\s+signal SIGKILL, \\d+s ago`));
  });
});
