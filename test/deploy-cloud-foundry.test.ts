import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { z } from "zod";
import { endWithThisProcess, exitOf, freePort, terminate } from "../src/process/index.ts";
import { TestRedis } from "./helpers/redis-server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const manifestSchema = z.object({
  applications: z
    .array(
      z.object({
        name: z.string(),
        instances: z.number().int(),
        memory: z.string().regex(/^\d+[MG]$/),
        buildpacks: z.array(z.string()).min(1),
        command: z.string(),
        "health-check-type": z.literal("http"),
        "health-check-http-endpoint": z.string(),
        services: z.array(z.string()).min(1),
        env: z.record(z.string(), z.string()),
      }),
    )
    .length(1),
});

let redis: TestRedis;
let app: z.infer<typeof manifestSchema>["applications"][number];

before(async () => {
  const manifest = manifestSchema.parse(parse(await readFile(`${ROOT}manifest.yml`, "utf8")));
  [app] = manifest.applications as [typeof app];
  redis = await TestRedis.start({ persistence: false });
});

after(async () => {
  await redis?.close();
});

test("the manifest asks for several instances, a Redis binding and the /readyz check", () => {
  assert.ok(app.instances >= 2, "more than one instance");
  assert.equal(app["health-check-http-endpoint"], "/readyz");
  assert.equal(app.env.NODE_ENV, "production");
  // Cloud Foundry sends SIGKILL 10 s after SIGTERM: the drain and the steps after it must fit.
  assert.ok(Number(app.env.DRAIN_TIMEOUT_MS) + 3000 <= 10_000, "the drain fits in 10 s");
});

test("its command, run as Cloud Foundry runs it, finds the bound Redis, gets ready, and drains on SIGTERM", async () => {
  const port = await freePort();
  // As a p.redis binding would hand it over, pointing at this test's Redis.
  const vcap = {
    "p.redis": [
      {
        label: "p.redis",
        name: app.services[0],
        plan: "on-demand-cache",
        tags: ["redis", "pivotal", "on-demand"],
        credentials: { host: "127.0.0.1", port: redis.port, password: "" },
      },
    ],
  };
  const [command, ...args] = app.command.split(" ");
  assert.ok(command !== undefined);
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...app.env,
      SESSION_SECRET: "cf-test-secret-0123456789",
      PORT: String(port),
      CF_INSTANCE_INDEX: "0",
      VCAP_SERVICES: JSON.stringify(vcap),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  endWithThisProcess(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    const deadline = Date.now() + 20_000;
    let ready: Response | undefined;
    while (ready?.status !== 200) {
      assert.ok(child.exitCode === null, `it exited: ${output}`);
      assert.ok(Date.now() < deadline, `not ready in 20 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    }
    assert.match(ready.headers.get("x-instance-id") ?? "", /^cf-0-[0-9a-f]{6}$/);

    const started = Date.now();
    child.kill("SIGTERM");
    const exit = await exitOf(child);
    assert.equal(exit.code, 0, `clean exit: ${output}`);
    assert.ok(Date.now() - started < 10_000, "gone before Cloud Foundry's SIGKILL");
  } finally {
    await terminate(child, 2000);
  }
});
