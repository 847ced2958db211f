import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fillIn } from "./helpers/load-balancer.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);
const sbin = (name: string) => (existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name);

/**
 * The shipped configs, filled in for other numbers of instances (as the
 * benchmark and an operator with more instances do), are accepted by
 * HAProxy's and nginx's own checks.
 */
for (const count of [1, 3, 5]) {
  const upstreams = Array.from({ length: count }, (_unused, i) => ({ port: 41_000 + i }));

  test(`deploy/haproxy.cfg with ${count} instance(s) passes haproxy -c`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-haproxy-check-"));
    try {
      const config = fillIn(
        await readFile(join(ROOT, "deploy/haproxy.cfg"), "utf8"),
        { pattern: /^\s*bind :8080$/m, replacement: "    bind 127.0.0.1:41999" },
        upstreams,
      );
      const servers = config.match(
        /^\s*server instance-\d+ 127\.0\.0\.1:\d+ cookie instance-\d+$/gm,
      );
      assert.equal(servers?.length, count, "one server line, with its own cookie, per instance");
      await writeFile(join(dir, "haproxy.cfg"), config);
      await run(sbin("haproxy"), ["-c", "-f", join(dir, "haproxy.cfg")]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`deploy/nginx.conf with ${count} instance(s) passes nginx -t`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-nginx-check-"));
    try {
      const config = fillIn(
        await readFile(join(ROOT, "deploy/nginx.conf"), "utf8"),
        { pattern: /^\s*listen 8080;$/m, replacement: "        listen 127.0.0.1:41999;" },
        upstreams,
      );
      assert.equal(config.match(/^\s*server 127\.0\.0\.1:\d+ max_fails/gm)?.length, count);
      await writeFile(join(dir, "nginx.conf"), config);
      // Its output to a file: nginx opens /dev/stdout for the access log, which a pipe is not.
      const out = await open(join(dir, "output.log"), "w");
      const checked = spawnSync(
        sbin("nginx"),
        [
          "-t",
          "-e",
          "stderr",
          "-p",
          `${dir}/`,
          "-c",
          join(dir, "nginx.conf"),
          "-g",
          `pid ${dir}/nginx.pid;`,
        ],
        { stdio: ["ignore", out.fd, out.fd] },
      );
      await out.close();
      assert.equal(checked.status, 0, await readFile(join(dir, "output.log"), "utf8"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
