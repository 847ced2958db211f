import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForPort } from "../../src/cluster/redis/server.ts";
import { endWithThisProcess, freePort, terminate } from "../../src/process/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Debian installs both in /usr/sbin, which is not in every user's PATH. */
const sbin = (name: string) => (existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name);

/** Where the load balancer should send requests: one line per instance of the shipped config. */
export interface Upstream {
  port: number;
}

/**
 * A real HAProxy or nginx started from its file in deploy/, on a free port,
 * for the tests and the benchmark (`--router haproxy`).
 */
export interface LoadBalancer {
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  /** Its output so far (access and error logs). */
  logs(): Promise<string>;
  /** Stops it by pid (SIGTERM, SIGKILL after 5 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The shipped config with our own addresses: the lines that name
 * `instance-N:3000` (compose.yaml's instances) become one line per upstream,
 * made from the first of them (`instance-1` renamed `instance-K`, the
 * address replaced), and the listen line listens on a free loopback port.
 * Everything else is used as shipped.
 */
export function fillIn(
  config: string,
  listen: { pattern: RegExp; replacement: string },
  upstreams: Upstream[],
): string {
  const lines = config.split("\n");
  const named = lines.flatMap((line, i) => (/instance-\d+:3000/.test(line) ? [i] : []));
  const first = named[0];
  if (first === undefined) throw new Error("the config names no instance-N:3000");
  if (upstreams.length === 0) throw new Error("no upstream to fill in");
  if (!listen.pattern.test(config))
    throw new Error(`no listen line ${listen.pattern} in the config`);
  const template = lines[first] ?? "";
  const generated = upstreams.map((upstream, k) =>
    template
      .replace(/instance-\d+:3000/, `127.0.0.1:${upstream.port}`)
      .replaceAll(/instance-\d+/g, `instance-${k + 1}`),
  );
  const kept = lines.filter((_line, i) => !named.includes(i));
  kept.splice(first, 0, ...generated);
  return kept.join("\n").replace(listen.pattern, listen.replacement);
}

async function startProcess(
  name: string,
  dir: string,
  port: number,
  command: string,
  args: string[],
): Promise<LoadBalancer> {
  // Output goes to a file: nginx opens /dev/stdout for its access log, which
  // fails on the socket that a "pipe" stdio would be.
  const out = await open(join(dir, "output.log"), "a");
  let child: ChildProcess;
  let spawnFailed: Promise<never>;
  try {
    child = spawn(command, args, { cwd: dir, stdio: ["ignore", out.fd, out.fd] });
    // Listened to at once: a missing program reports ENOENT on the next tick,
    // during the close below, and an 'error' without a listener ends this process.
    const started = child;
    spawnFailed = new Promise<never>((_resolve, reject) =>
      started.once("error", (error) =>
        reject(new Error(`${command} could not start (is it installed?)`, { cause: error })),
      ),
    );
    spawnFailed.catch(() => {});
  } finally {
    await out.close();
  }
  endWithThisProcess(child);
  const logs = () => readFile(join(dir, "output.log"), "utf8").catch(() => "");
  let stopped: Promise<void> | undefined;
  const balancer: LoadBalancer = {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    logs,
    stop() {
      stopped ??= terminate(child, 5000).then(async () => {
        if (process.env.SB_TEST_LOGS) process.stderr.write(await logs());
        await rm(dir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
  try {
    await Promise.race([
      spawnFailed,
      waitForPort(port, 10_000, () => child.exitCode !== null || child.signalCode !== null),
    ]);
  } catch (error) {
    const output = await logs();
    await balancer.stop();
    throw new Error(`${name} did not start: ${output}`, { cause: error });
  }
  return balancer;
}

/** HAProxy (Debian's `haproxy`) from deploy/haproxy.cfg, in the foreground (-db). */
export async function startHaproxy(upstreams: Upstream[]): Promise<LoadBalancer> {
  const dir = await mkdtemp(join(tmpdir(), "sb-haproxy-"));
  const port = await freePort();
  const shipped = await readFile(join(ROOT, "deploy/haproxy.cfg"), "utf8");
  const file = join(dir, "haproxy.cfg");
  await writeFile(
    file,
    fillIn(
      shipped,
      { pattern: /^\s*bind :8080$/m, replacement: `    bind 127.0.0.1:${port}` },
      upstreams,
    ),
  );
  return startProcess("haproxy", dir, port, sbin("haproxy"), ["-db", "-f", file]);
}

/**
 * nginx (Debian's `nginx`) from deploy/nginx.conf, in the foreground, with
 * its pid file, temp files and error log in a folder of its own. One process
 * (`master_process off`): a master killed with SIGKILL would leave its
 * workers serving, and the tests stop everything they start by pid.
 */
export async function startNginx(upstreams: Upstream[]): Promise<LoadBalancer> {
  const dir = await mkdtemp(join(tmpdir(), "sb-nginx-"));
  const port = await freePort();
  const shipped = await readFile(join(ROOT, "deploy/nginx.conf"), "utf8");
  const file = join(dir, "nginx.conf");
  await writeFile(
    file,
    fillIn(
      shipped,
      { pattern: /^\s*listen 8080;$/m, replacement: `        listen 127.0.0.1:${port};` },
      upstreams,
    ),
  );
  return startProcess("nginx", dir, port, sbin("nginx"), [
    "-e",
    "stderr",
    "-p",
    `${dir}/`,
    "-c",
    file,
    "-g",
    `daemon off; master_process off; pid ${dir}/nginx.pid;`,
  ]);
}
