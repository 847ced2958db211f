import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, cp, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { endWithThisProcess, exitOf, freePort, terminate } from "../src/process/index.ts";
import { TestRedis } from "./helpers/redis-server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const run = promisify(execFile);

type Doc = Record<string, unknown>;

/** Follows a path of keys and indexes through parsed YAML; undefined where it ends. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  let here = value;
  for (const step of path) {
    if (typeof here !== "object" || here === null) return undefined;
    here = (here as Record<string | number, unknown>)[step];
  }
  return here;
}

/** The haproxy.cfg / nginx.conf setting the manifests must agree with: the instance port. */
const INSTANCE_PORT = 3000;

/** What the shutdown of an instance takes at most after its drain: 4 steps of 3 s (instance.ts). */
const AFTER_DRAIN_S = 12;

describe("Kubernetes: deploy/k8s", () => {
  let objects: Doc[] = [];
  let rendered = "";

  before(async () => {
    // kubectl kustomize where kubectl is installed; otherwise the files the
    // kustomization lists, parsed as they are.
    if (existsSync("/usr/bin/kubectl")) {
      rendered = (await run("/usr/bin/kubectl", ["kustomize", join(ROOT, "deploy/k8s")])).stdout;
    } else {
      const kustomization = parse(
        await readFile(join(ROOT, "deploy/k8s/kustomization.yaml"), "utf8"),
      );
      const files = at(kustomization, "resources") as string[];
      rendered = (
        await Promise.all(files.map((f) => readFile(join(ROOT, "deploy/k8s", f), "utf8")))
      ).join("\n---\n");
    }
    objects = parseAllDocuments(rendered).map((doc) => {
      assert.deepEqual(doc.errors, [], "valid YAML");
      return doc.toJS() as Doc;
    });
  });

  const one = (kind: string) => {
    const found = objects.filter((o) => o.kind === kind);
    assert.equal(found.length, 1, `one ${kind}`);
    return found[0] as Doc;
  };

  test("has a Deployment, Service, HTTPRoute, PodDisruptionBudget and Secret that fit together", () => {
    const deployment = one("Deployment");
    const service = one("Service");
    const route = one("HTTPRoute");
    const pdb = one("PodDisruptionBudget");
    const secret = one("Secret");

    const podLabels = at(deployment, "spec", "template", "metadata", "labels") as Record<
      string,
      string
    >;
    const selects = (selector: unknown) =>
      Object.entries(selector as Record<string, string>).every(([k, v]) => podLabels[k] === v);
    assert.ok(selects(at(deployment, "spec", "selector", "matchLabels")), "deployment selector");
    assert.ok(selects(at(service, "spec", "selector")), "service selector");
    assert.ok(selects(at(pdb, "spec", "selector", "matchLabels")), "PDB selector");
    assert.ok((at(deployment, "spec", "replicas") as number) >= 2);

    const container = at(deployment, "spec", "template", "spec", "containers", 0);
    assert.equal(at(container, "ports", 0, "containerPort"), INSTANCE_PORT);
    assert.equal(at(service, "spec", "ports", 0, "targetPort"), at(container, "ports", 0, "name"));
    assert.equal(
      at(route, "spec", "rules", 0, "backendRefs", 0, "name"),
      at(service, "metadata", "name"),
    );
    assert.equal(
      at(route, "spec", "rules", 0, "backendRefs", 0, "port"),
      at(service, "spec", "ports", 0, "port"),
    );
    assert.equal(at(route, "spec", "rules", 0, "sessionPersistence", "type"), "Cookie");

    // Every secret key the pod reads, unless optional, is in the Secret.
    const env = at(container, "env") as Doc[];
    for (const variable of env) {
      const ref = at(variable, "valueFrom", "secretKeyRef");
      if (ref === undefined || at(ref, "optional") === true) continue;
      assert.equal(at(ref, "name"), at(secret, "metadata", "name"));
      assert.ok(
        Object.hasOwn(at(secret, "stringData") as Doc, at(ref, "key") as string),
        `${at(ref, "key")} in the Secret`,
      );
    }
  });

  test("probes use /readyz and /healthz, and the grace period covers preStop and the drain", () => {
    const deployment = one("Deployment");
    const pod = at(deployment, "spec", "template", "spec");
    const container = at(pod, "containers", 0);
    assert.equal(at(container, "readinessProbe", "httpGet", "path"), "/readyz");
    assert.equal(at(container, "livenessProbe", "httpGet", "path"), "/healthz");
    const preStop = at(container, "lifecycle", "preStop", "exec", "command") as string[];
    assert.equal(preStop[0], "sleep");
    const env = new Map(
      (at(container, "env") as Doc[]).map((e) => [e.name as string, e.value as string | undefined]),
    );
    const drainS = Number(env.get("DRAIN_TIMEOUT_MS")) / 1000;
    assert.ok(drainS > 0);
    const grace = at(pod, "terminationGracePeriodSeconds") as number;
    assert.ok(
      grace >= Number(preStop[1]) + drainS + AFTER_DRAIN_S,
      `grace ${grace} s covers ${preStop[1]} s + ${drainS} s + ${AFTER_DRAIN_S} s`,
    );
    assert.equal(at(pod, "securityContext", "runAsNonRoot"), true);
  });
});

describe("compose.yaml", () => {
  let compose: Doc;
  let haproxyCfg = "";

  before(async () => {
    compose = parse(await readFile(join(ROOT, "compose.yaml"), "utf8"), { merge: true }) as Doc;
    haproxyCfg = await readFile(join(ROOT, "deploy/haproxy.cfg"), "utf8");
  });

  test("runs Redis, the three instances deploy/haproxy.cfg names, and HAProxy with that file", () => {
    const services = at(compose, "services") as Record<string, Doc>;
    const servers = [...haproxyCfg.matchAll(/^\s*server \S+ ([\w-]+):(\d+)/gm)];
    assert.equal(servers.length, 3);
    for (const [, host, port] of servers) {
      const service = services[host as string];
      assert.ok(service, `compose has the service ${host}`);
      assert.equal(Number(port), INSTANCE_PORT);
      assert.equal(at(service, "environment", "INSTANCE_ID"), host);
      assert.equal(at(service, "environment", "REDIS_URL"), "redis://redis:6379");
      assert.equal(at(service, "environment", "NODE_ENV"), "production");
      const grace = Number(/^(\d+)s$/.exec(String(at(service, "stop_grace_period")))?.[1]);
      const drain = Number(at(service, "environment", "DRAIN_TIMEOUT_MS")) / 1000;
      assert.ok(grace >= drain + AFTER_DRAIN_S, "stop_grace_period covers the drain");
    }
    assert.ok(services.redis);
    const volumes = at(services, "haproxy", "volumes") as string[];
    assert.ok(
      volumes.some((v) => v.startsWith("./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg")),
    );
    const bind = /^\s*bind :(\d+)$/m.exec(haproxyCfg)?.[1];
    assert.ok((at(services, "haproxy", "ports") as string[]).some((p) => p.endsWith(`:${bind}`)));
  });
});

/**
 * The Dockerfile's last stage, as far as it can be run without a container
 * engine: its files (COPY --from=build, from this checkout after
 * `npm run build`; production node_modules left out, the bundle must not need
 * them), its ENV, its CMD as the unprivileged user, its HEALTHCHECK, and
 * SIGTERM as `docker stop` sends it.
 */
describe("Dockerfile", () => {
  let dockerfile = "";
  let redis: TestRedis;
  let dir = "";

  before(async () => {
    dockerfile = await readFile(join(ROOT, "Dockerfile"), "utf8");
    redis = await TestRedis.start({ persistence: false });
    dir = await mkdtemp(join(tmpdir(), "sb-image-"));
    await chmod(dir, 0o755);
  });

  after(async () => {
    await redis?.close();
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  const lastStage = () => dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  /** A JSON-array instruction (CMD ["node", ...]) of the last stage. */
  const jsonArgs = (instruction: RegExp) => {
    const match = instruction.exec(lastStage().replaceAll("\\\n", " "));
    assert.ok(match?.[1], `${instruction} in the last stage`);
    return JSON.parse(match[1]) as string[];
  };

  test("builds in stages, installs production dependencies only, runs node as a non-root user", () => {
    assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 2, "multi-stage");
    assert.match(dockerfile, /npm ci --omit=dev/);
    const user = /^USER (\S+)$/m.exec(lastStage())?.[1];
    assert.ok(user !== undefined && user !== "root" && user !== "0", "USER is not root");
    assert.equal(
      jsonArgs(/^CMD (\[.*\])$/m)[0],
      "node",
      "exec form: node is PID 1 and gets SIGTERM",
    );
  });

  test("its files, environment and command start an instance as uid 1000 that is healthy and drains on SIGTERM", async () => {
    const stage = lastStage();
    for (const [, from, source, target] of stage.matchAll(
      /^COPY --from=(\w+)(?: --chown=\S+)? (\S+) (\S+)$/gm,
    )) {
      if (from !== "build") continue;
      const relative = (source as string).replace(/^\/app\//, "");
      await cp(join(ROOT, relative), join(dir, target as string), { recursive: true });
    }
    const env: Record<string, string> = {};
    for (const [, body] of stage.replaceAll("\\\n", " ").matchAll(/^ENV (.+)$/gm)) {
      for (const [, key, value] of (body as string).matchAll(/(\w+)=(\S+)/g))
        env[key as string] = value as string;
    }
    const port = await freePort();
    const [command, ...args] = jsonArgs(/^CMD (\[.*\])$/m);
    assert.ok(command !== undefined);
    const child = spawn(command === "node" ? process.execPath : command, args, {
      cwd: dir,
      uid: 1000,
      gid: 1000,
      env: {
        PATH: process.env.PATH,
        ...env,
        PORT: String(port),
        REDIS_URL: redis.url,
        SESSION_SECRET: "image-test-secret-0123456789",
        DRAIN_TIMEOUT_MS: "2000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    endWithThisProcess(child);
    let output = "";
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        assert.equal(child.exitCode, null, `it exited: ${output}`);
        assert.ok(Date.now() < deadline, `no answer in 20 s: ${output}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (res?.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200, "the browser app is in the image");
      assert.match(await page.text(), /<html/i);

      const [hcCommand, ...hcArgs] = jsonArgs(/^HEALTHCHECK .*?CMD (\[.*\])$/m);
      assert.equal(hcCommand, "node");
      const check = await run(process.execPath, hcArgs, {
        env: { PATH: process.env.PATH, PORT: String(port) },
      }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? 1,
      );
      assert.equal(check, 0, "HEALTHCHECK passes");

      child.kill("SIGTERM");
      const exit = await exitOf(child);
      assert.equal(exit.code, 0, `clean exit after SIGTERM: ${output}`);
      assert.match(output, /"msg":"drained"/);
    } finally {
      await terminate(child, 2000);
    }
  });
});
