import assert from "node:assert/strict";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import type { Router } from "../src/router/index.ts";
import {
  AFFINITY_COOKIE,
  BackendTable,
  createRouter,
  isLoopbackAddress,
} from "../src/router/index.ts";

/**
 * Small real instances: every response names its instance, `/login` sets the
 * session cookie, `/hold` answers only when told to, `/ws` echoes over a
 * WebSocket with the instance id as the first message.
 */
interface FakeInstance {
  id: string;
  port: number;
  server: Server;
  /** Headers of the last request that reached it. */
  last: IncomingMessage["headers"];
  hits: number;
  /** TCP connections the router opened to it. */
  connections: number;
  release: () => void;
}

async function startInstance(id: string): Promise<FakeInstance> {
  const held: Array<() => void> = [];
  const instance: FakeInstance = {
    id,
    port: 0,
    server: createServer(),
    last: {},
    hits: 0,
    connections: 0,
    release: () => {
      for (const done of held.splice(0)) done();
    },
  };
  instance.server.on("connection", () => {
    instance.connections++;
  });
  instance.server.on("request", (req, res) => {
    instance.hits++;
    instance.last = req.headers;
    res.setHeader("x-instance-id", id);
    if (req.url === "/login") {
      res.setHeader("set-cookie", [
        "JSESSIONID=s%3Aabc.def; Path=/; Max-Age=604800; Expires=Fri, 01 Jan 2100 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax",
        "theme=dark; Path=/",
      ]);
    }
    if (req.url === "/hold") {
      held.push(() => res.end(id));
      return;
    }
    if (req.url === "/never") return;
    req.resume();
    req.on("end", () => res.end(id));
  });
  const wss = new WebSocketServer({ noServer: true });
  instance.server.on("upgrade", (req, socket, head) => {
    instance.last = req.headers;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(id);
      ws.on("message", (data) => ws.send(`echo:${String(data)}`));
    });
  });
  await new Promise<void>((resolve) => instance.server.listen(0, "127.0.0.1", resolve));
  instance.port = (instance.server.address() as AddressInfo).port;
  return instance;
}

function stopInstance(instance: FakeInstance): Promise<void> {
  instance.release();
  return new Promise((resolve) => {
    instance.server.close(() => resolve());
    instance.server.closeAllConnections();
  });
}

interface Reply {
  status: number;
  instance: string | undefined;
  body: string;
  setCookie: string[];
  headers: IncomingMessage["headers"];
}

function send(
  port: number,
  path: string,
  options: { method?: string; cookie?: string; body?: string; host?: string; origin?: string } = {},
  localAddress?: string,
  targetHost = "127.0.0.1",
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.cookie !== undefined) headers.cookie = options.cookie;
    if (options.host !== undefined) headers.host = options.host;
    if (options.origin !== undefined) headers.origin = options.origin;
    if (options.body !== undefined) headers["content-type"] = "text/plain";
    const req = request(
      {
        host: targetHost,
        port,
        path,
        method: options.method ?? "GET",
        headers,
        agent: false,
        ...(localAddress === undefined ? {} : { localAddress }),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            instance: res.headers["x-instance-id"] as string | undefined,
            body,
            setCookie: res.headers["set-cookie"] ?? [],
            headers: res.headers,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

function affinityOf(reply: Reply): string | undefined {
  const cookie = reply.setCookie.find((c) => c.startsWith(`${AFFINITY_COOKIE}=`));
  return cookie?.split(";", 1)[0]?.slice(AFFINITY_COOKIE.length + 1);
}

describe("router", () => {
  const table = new BackendTable();
  const instances: FakeInstance[] = [];
  let router: Router;
  let port = 0;
  const adminCalls: string[] = [];

  before(async () => {
    for (const id of ["i-aaaaaa", "i-bbbbbb", "i-cccccc"]) {
      const instance = await startInstance(id);
      instances.push(instance);
    }
    router = createRouter({
      table,
      proxyTimeoutMs: 1500,
      admin: (req, res) => {
        adminCalls.push(req.url ?? "");
        res.end("admin");
      },
    });
    port = await router.listen(0, "0.0.0.0");
  });

  after(async () => {
    await router?.close();
    await Promise.all(instances.map(stopInstance));
  });

  const register = () => {
    for (const instance of instances) table.remove(instance.id);
    for (const instance of instances) {
      table.add({ id: instance.id, host: "127.0.0.1", port: instance.port });
    }
  };
  const instance = (id: string | undefined) => {
    const found = instances.find((i) => i.id === id);
    assert.ok(found, `no instance ${id}`);
    return found;
  };

  test("answers 503 JSON when no instance is registered", async () => {
    const reply = await send(port, "/anything");
    assert.equal(reply.status, 503);
    assert.equal(reply.headers["retry-after"], "1");
    assert.equal(JSON.parse(reply.body).error.code, "unavailable");
  });

  test("spreads requests without affinity over every instance", async () => {
    register();
    const seen = new Map<string, number>();
    for (let i = 0; i < 9; i++) {
      const reply = await send(port, "/");
      assert.equal(reply.status, 200);
      seen.set(reply.body, (seen.get(reply.body) ?? 0) + 1);
      assert.equal(affinityOf(reply), undefined, "no affinity without a session cookie");
    }
    assert.deepEqual([...seen.values()], [3, 3, 3]);
  });

  test("adds __VCAP_ID__ with the session cookie's lifetime when the instance sets it", async () => {
    register();
    const reply = await send(port, "/login", { method: "POST", body: "user" });
    assert.equal(reply.setCookie.length, 3);
    const cookie = reply.setCookie.find((c) => c.startsWith(`${AFFINITY_COOKIE}=`)) ?? "";
    assert.equal(affinityOf(reply), reply.instance);
    for (const part of [
      "Path=/",
      "HttpOnly",
      "Max-Age=604800",
      "Expires=Fri, 01 Jan 2100 00:00:00 GMT",
      "Secure",
      "SameSite=Lax",
    ]) {
      assert.ok(cookie.includes(part), `${cookie} has ${part}`);
    }
  });

  test("keeps a client with both cookies on its instance, and ignores __VCAP_ID__ alone", async () => {
    register();
    const target = instances[1]?.id ?? "";
    const sticky = `JSESSIONID=s%3Aabc.def; ${AFFINITY_COOKIE}=${target}`;
    for (let i = 0; i < 6; i++) {
      const reply = await send(port, "/", { cookie: sticky });
      assert.equal(reply.instance, target);
      assert.equal(affinityOf(reply), undefined, "no new cookie while the affinity holds");
    }
    const alone = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) {
      alone.add((await send(port, "/", { cookie: `${AFFINITY_COOKIE}=${target}` })).instance);
    }
    assert.equal(alone.size, 3);
  });

  test("sends a client of a gone instance elsewhere with a new __VCAP_ID__", async () => {
    register();
    const cookie = `JSESSIONID=s%3Aabc.def; ${AFFINITY_COOKIE}=i-gone00`;
    const reply = await send(port, "/", { cookie });
    assert.equal(reply.status, 200);
    assert.ok(reply.instance);
    assert.equal(affinityOf(reply), reply.instance);
    const cookieLine = reply.setCookie[0] ?? "";
    assert.match(cookieLine, /HttpOnly/);
    assert.match(cookieLine, /SameSite=Lax/);
  });

  test("moves a client off a draining instance", async () => {
    register();
    const draining = instances[0]?.id ?? "";
    table.markDraining(draining);
    const cookie = `JSESSIONID=x; ${AFFINITY_COOKIE}=${draining}`;
    for (let i = 0; i < 4; i++) {
      const reply = await send(port, "/", { cookie });
      assert.notEqual(reply.instance, draining);
      assert.equal(affinityOf(reply), reply.instance);
      assert.notEqual((await send(port, "/")).instance, draining);
    }
  });

  test("retries a GET on another instance when its instance refuses connections", async () => {
    register();
    const dead = await startInstance("i-dead00");
    await stopInstance(dead);
    // Registered but no longer listening, as a killed instance is until the supervisor notices.
    table.add({ id: dead.id, host: "127.0.0.1", port: dead.port });
    const errorsBefore = instances.reduce((n, i) => n + i.hits, 0);
    for (let i = 0; i < 8; i++) {
      const reply = await send(port, "/", {
        cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=${dead.id}`,
      });
      assert.equal(reply.status, 200);
      assert.notEqual(reply.instance, dead.id);
      assert.equal(affinityOf(reply), reply.instance);
      assert.equal((await send(port, "/")).status, 200);
    }
    assert.equal(instances.reduce((n, i) => n + i.hits, 0) - errorsBefore, 16);
    table.remove(dead.id);
  });

  test("answers 502 JSON for a request with a body whose instance refuses connections", async () => {
    const dead = await startInstance("i-dead01");
    await stopInstance(dead);
    for (const i of instances) table.remove(i.id);
    table.add({ id: dead.id, host: "127.0.0.1", port: dead.port });
    try {
      const reply = await send(port, "/messages", { method: "POST", body: "hello" });
      assert.equal(reply.status, 502);
      assert.match(String(reply.headers["content-type"]), /application\/json/);
      assert.deepEqual(Object.keys(JSON.parse(reply.body).error), ["code", "message"]);
      assert.equal(JSON.parse(reply.body).error.code, "unavailable");
      const get = await send(port, "/");
      assert.equal(get.status, 503, "a GET with no other instance left gets 503");
    } finally {
      table.remove(dead.id);
    }
  });

  test("answers 504 JSON when an instance does not answer in time", async () => {
    register();
    const started = Date.now();
    const reply = await send(port, "/never", {
      cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=${instances[2]?.id}`,
    });
    assert.equal(reply.status, 504);
    assert.equal(JSON.parse(reply.body).error.code, "unavailable");
    assert.ok(Date.now() - started < 5000);
  });

  test("prefers the instance with the fewest open requests", async () => {
    register();
    const [a, b, c] = instances;
    assert.ok(a && b && c);
    // Two held requests on a, one on b: c is the least loaded, then b.
    const held = [
      send(port, "/hold", { cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=${a.id}` }),
      send(port, "/hold", { cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=${a.id}` }),
      send(port, "/hold", { cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=${b.id}` }),
    ];
    await waitFor(() => (table.get(a.id)?.inflight ?? 0) === 2 && table.get(b.id)?.inflight === 1);
    const picks = [];
    for (let i = 0; i < 3; i++) picks.push((await send(port, "/")).instance);
    assert.deepEqual(picks, [c.id, c.id, c.id]);
    a.release();
    b.release();
    c.release();
    await Promise.all(held);
    assert.equal(table.get(a.id)?.inflight, 0);
  });

  test("proxies WebSocket upgrades, sticky, with forwarded headers, and counts them", async () => {
    register();
    const target = instance(instances[2]?.id);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=${target.id}` },
    });
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(String(data)));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send("hi");
    await waitFor(() => messages.length === 2);
    assert.deepEqual(messages, [target.id, "echo:hi"]);
    assert.equal(table.get(target.id)?.upgraded, 1);
    assert.equal(target.last["x-forwarded-for"], "127.0.0.1");
    assert.equal(target.last["x-forwarded-host"], `127.0.0.1:${port}`);
    const closed = new Promise((resolve) => ws.once("close", resolve));
    ws.close();
    await closed;
    await waitFor(() => table.get(target.id)?.upgraded === 0);
  });

  test("sets the affinity cookie on a 101 when the affinity was stale", async () => {
    register();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { cookie: `JSESSIONID=x; ${AFFINITY_COOKIE}=i-gone00` },
    });
    const first = new Promise<string>((resolve) => ws.once("message", (d) => resolve(String(d))));
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      ws.once("upgrade", resolve);
      ws.once("error", reject);
    });
    assert.match(
      String(response.headers["set-cookie"]),
      new RegExp(`${AFFINITY_COOKIE}=${await first}`),
    );
    ws.terminate();
  });

  test("answers a WebSocket upgrade with 503 when no instance is registered", async () => {
    for (const i of instances) table.remove(i.id);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", () => resolve(-1));
    });
    assert.equal(status, 503);
    ws.terminate();
  });

  test("sets X-Forwarded-For, -Proto and -Host", async () => {
    register();
    const reply = await send(port, "/", { host: "chat.example:8080" });
    const seen = instance(reply.instance).last;
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen["x-forwarded-proto"], "http");
    assert.equal(seen["x-forwarded-host"], "chat.example:8080");
  });

  test("keeps its connections to an instance open when clients ask to close theirs", async () => {
    register();
    for (const other of instances.slice(1)) table.remove(other.id);
    const only = instances[0];
    assert.ok(only);
    // Settle the previous tests' pooled connections, then count the new ones.
    const before = only.connections;
    for (let i = 0; i < 5; i++) {
      // No agent: each request says "Connection: close" to the router.
      const reply = await send(port, "/");
      assert.equal(reply.instance, only.id);
      assert.notEqual(only.last.connection, "close");
    }
    assert.ok(
      only.connections - before <= 1,
      `${only.connections - before} new connections for 5 requests`,
    );
  });

  test("lets loopback callers reach the admin API and refuses the others", async () => {
    adminCalls.length = 0;
    assert.equal((await send(port, "/_cluster/instances")).body, "admin");
    assert.equal(
      (await send(port, "/_cluster", { host: `localhost:${port}` })).body,
      "admin",
      "localhost is a loopback Host",
    );
    const rebound = await send(port, "/_cluster/instances", { host: "evil.example" });
    assert.equal(rebound.status, 403);
    assert.equal(JSON.parse(rebound.body).error.code, "forbidden");
    const crossSite = await send(port, "/_cluster/restart", {
      method: "POST",
      origin: "http://evil.example",
    });
    assert.equal(crossSite.status, 403);
    assert.equal(adminCalls.length, 2);

    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === "IPv4" && !i.internal);
    if (external !== undefined) {
      const reply = await send(port, "/_cluster/instances", {}, external.address, external.address);
      assert.equal(reply.status, 403);
      assert.equal(adminCalls.length, 2);
    }
  });

  test("knows loopback addresses", () => {
    for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
      assert.ok(isLoopbackAddress(a), a);
    }
    for (const a of ["192.0.2.2", "::ffff:10.0.0.1", "fe80::1", "", undefined]) {
      assert.ok(!isLoopbackAddress(a), String(a));
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * An instance-like server whose keep-alive close can be made to cross a
 * request: `expireIdle()` stands for its keep-alive timer firing on every idle
 * connection, and the next request that arrives on such a connection is cut
 * unanswered, as Node's server does when its close and the router's reuse of
 * the connection meet. A race of a few milliseconds becomes a step the test
 * takes. Its keep-alive timeout itself is Node's default (5 s).
 */
interface ClosingInstance {
  server: Server;
  port: number;
  /** The instance's idle timer fires now on every connection that has no request. */
  expireIdle(): void;
  /** Resolves when a connection from the router next closes. */
  nextClose(): Promise<void>;
  /** Whether Node's own keep-alive timer fired on a connection. */
  timedOut: boolean;
  cut: number;
}

async function startClosingInstance(): Promise<ClosingInstance> {
  const expired = new WeakSet<object>();
  const open = new Set<Socket>();
  const busy = new WeakSet<object>();
  const closeWaiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    if (expired.has(req.socket)) {
      instance.cut++;
      req.socket.destroy();
      return;
    }
    busy.add(req.socket);
    req.resume();
    req.on("end", () => {
      res.end("ok");
      busy.delete(req.socket);
    });
  });
  server.on("timeout", (socket: Socket) => {
    instance.timedOut = true;
    socket.destroy();
  });
  server.on("connection", (socket) => {
    open.add(socket);
    socket.once("close", () => {
      open.delete(socket);
      for (const done of closeWaiters.splice(0)) done();
    });
  });
  const instance: ClosingInstance = {
    server,
    port: 0,
    timedOut: false,
    cut: 0,
    expireIdle: () => {
      for (const socket of open) if (!busy.has(socket)) expired.add(socket);
    },
    nextClose: () => new Promise((resolve) => closeWaiters.push(resolve)),
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  instance.port = (server.address() as AddressInfo).port;
  return instance;
}

describe("the router and the instances' keep-alive timeout", () => {
  let instance: ClosingInstance | undefined;
  const routers: Router[] = [];

  const routerTo = async (target: ClosingInstance, idleSocketMs: number) => {
    const table = new BackendTable();
    table.add({ id: "i-keepal", host: "127.0.0.1", port: target.port });
    const router = createRouter({ table, idleSocketMs });
    routers.push(router);
    return { router, port: await router.listen(0, "127.0.0.1") };
  };

  before(async () => {
    instance = await startClosingInstance();
  });

  after(async () => {
    await Promise.all(routers.map((r) => r.close()));
    instance?.server.closeAllConnections();
    await new Promise((resolve) => instance?.server.close(resolve));
  });

  test("a POST sent on a pooled connection the instance is closing gets a 502 (the cause)", async () => {
    assert.ok(instance);
    const { router, port } = await routerTo(instance, 60_000);
    assert.equal((await send(port, "/login", { method: "POST", body: "a" })).status, 200);
    instance.expireIdle();
    const cutBefore = instance.cut;
    const reply = await send(port, "/login", { method: "POST", body: "b" });
    assert.equal(instance.cut, cutBefore + 1, "the request went out on the closing connection");
    assert.equal(reply.status, 502);
    assert.deepEqual(JSON.parse(reply.body).error, {
      code: "unavailable",
      message: "the instance could not be reached",
    });
    assert.equal(router.figures().errors, 1);
  });

  test("a GET that meets that reset is sent again on a new connection, to the same instance", async () => {
    assert.ok(instance);
    const { router, port } = await routerTo(instance, 60_000);
    assert.equal((await send(port, "/")).status, 200);
    instance.expireIdle();
    const cutBefore = instance.cut;
    const reply = await send(port, "/");
    assert.equal(instance.cut, cutBefore + 1, "the first attempt met the closing connection");
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(router.figures(), { requests: 2, errors: 0, connections: 0 });
  });

  test("the router drops an idle pooled connection before the instance would", async () => {
    assert.ok(instance);
    // 100 ms against the instance's 5 s: the router closes first, so a later
    // request opens a new connection instead of meeting the instance's close.
    const { router, port } = await routerTo(instance, 100);
    const closed = instance.nextClose();
    assert.equal((await send(port, "/login", { method: "POST", body: "a" })).status, 200);
    await closed;
    assert.equal(instance.timedOut, false);
    instance.expireIdle();
    const reply = await send(port, "/login", { method: "POST", body: "b" });
    assert.equal(reply.status, 200);
    assert.deepEqual(router.figures(), { requests: 2, errors: 0, connections: 0 });
  });

  test("the idle limit does not cut a request the instance takes longer than it to answer", async () => {
    const slow = createServer((_req, res) => {
      setTimeout(() => res.end("late"), 400);
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    try {
      const table = new BackendTable();
      table.add({ id: "i-slow00", host: "127.0.0.1", port: (slow.address() as AddressInfo).port });
      const router = createRouter({ table, idleSocketMs: 100, proxyTimeoutMs: 5000 });
      routers.push(router);
      const port = await router.listen(0, "127.0.0.1");
      assert.equal((await send(port, "/")).body, "late");
      assert.equal((await send(port, "/")).body, "late");
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});
