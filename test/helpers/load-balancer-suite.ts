import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { type ConnectionStatus, SwitchboardClient } from "../../src/client/core/index.ts";
import { TestInstance } from "./instance.ts";
import type { LoadBalancer, Upstream } from "./load-balancer.ts";
import { TestRedis } from "./redis-server.ts";
import { registeredUser, uniqueName } from "./users.ts";

type User = Awaited<ReturnType<typeof registeredUser>>;

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const instanceOf = (status: ConnectionStatus) =>
  status.state === "connected" ? status.instance : undefined;

/**
 * The recipe's tests through a real load balancer started from its file in
 * deploy/: three instances on one Redis, all traffic through the balancer.
 * The HAProxy and the nginx test files run this same suite.
 */
export function loadBalancerSuite(
  name: string,
  start: (upstreams: Upstream[]) => Promise<LoadBalancer>,
): void {
  describe(`${name} in front of three instances`, () => {
    let redis: TestRedis;
    const instances: TestInstance[] = [];
    let lb: LoadBalancer;
    const clients: SwitchboardClient[] = [];

    before(async () => {
      redis = await TestRedis.start({ persistence: false });
      const env = {
        REDIS_URL: redis.url,
        SESSION_SECRET: "test-secret-0123456789abcdef",
        MESSAGE_RATE_PER_SECOND: "0",
        PRESENCE_HEARTBEAT_MS: "500",
        // Every user of the test registers from the same address.
        AUTH_ATTEMPTS_PER_MINUTE: "10000",
      };
      // One after the other: three starting at once on a busy 2-core machine can
      // take longer than the helper's start timeout.
      for (const n of [1, 2, 3]) {
        instances.push(await TestInstance.start({ ...env, INSTANCE_ID: `lb-${n}` }));
      }
      lb = await start(instances);
    });

    after(async () => {
      for (const client of clients) client.close();
      // Each step on its own, so that a failing one does not leave the others running.
      await Promise.allSettled([
        lb?.stop(),
        ...instances.map((instance) => instance.stop("SIGKILL")),
      ]);
      await redis?.close();
    });

    /** A user registered through the balancer whose requests land on an instance `accept` takes. */
    async function userOn(accept: (instance: string) => boolean): Promise<User & { home: string }> {
      // HAProxy sends each new user to the instance with the fewest connections,
      // nginx hashes the session cookie: either way a few tries find one.
      for (let i = 0; i < 40; i++) {
        const user = await registeredUser(lb.url, uniqueName("lb"));
        const session = await user.http.session();
        assert.ok(session, "logged in after registering");
        if (accept(session.instance)) return { ...user, home: session.instance };
      }
      throw new Error("no user landed on a wanted instance in 40 registrations");
    }

    async function client(
      user: User,
      room: string,
      transports?: ("polling" | "websocket")[],
    ): Promise<SwitchboardClient> {
      const opening = new SwitchboardClient({
        url: lb.url,
        http: user.http,
        rooms: [room],
        ...(transports === undefined ? {} : { transports }),
      });
      clients.push(opening);
      // open() keeps trying for ever (as a browser would): bound it here.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no connection in 15 s: ${JSON.stringify(opening.status)}`)),
          15_000,
        );
      });
      try {
        await Promise.race([opening.open(), late]);
      } finally {
        clearTimeout(timer);
      }
      return opening;
    }

    /** Closes the clients of a test, so that the next one starts with no connection held. */
    const closeAll = () => {
      for (const c of clients.splice(0)) c.close();
    };

    afterEach(closeAll);

    const texts = (c: SwitchboardClient, room: string) =>
      c.rooms.get(room)?.messages.map((m) => m.text) ?? [];

    test("a login sticks to one instance, and its socket opens there", async () => {
      const user = await userOn(() => true);
      for (let i = 0; i < 6; i++) {
        const session = await user.http.session();
        assert.equal(session?.instance, user.home, `request ${i + 1} stayed on ${user.home}`);
      }
      const c = await client(user, uniqueName("r").toLowerCase());
      assert.equal(instanceOf(c.status), user.home);
    });

    test("users on different instances chat through it, over WebSocket", async () => {
      const room = uniqueName("r").toLowerCase();
      const ann = await userOn(() => true);
      const a = await client(ann, room, ["websocket"]);
      const bob = await userOn((instance) => instance !== ann.home);
      const b = await client(bob, room, ["websocket"]);
      assert.notEqual(instanceOf(a.status), instanceOf(b.status));
      a.send(room, "hello from ann");
      await until("bob sees ann's message", () => texts(b, room).includes("hello from ann"));
      b.send(room, "hello from bob");
      await until("ann sees bob's message", () => texts(a, room).includes("hello from bob"));
      assert.deepEqual(texts(a, room), ["hello from ann", "hello from bob"]);
      assert.deepEqual(texts(b, room), ["hello from ann", "hello from bob"]);
    });

    test("a client on long-polling only chats without losing its Socket.IO session", async () => {
      const room = uniqueName("r").toLowerCase();
      const poller = await userOn(() => true);
      const p = await client(poller, room, ["polling"]);
      const other = await userOn((instance) => instance !== poller.home);
      const o = await client(other, room, ["websocket"]);
      const statuses: string[] = [];
      p.on("status", (status) => statuses.push(status.state));
      // Twenty messages each way, over a few seconds of polls: every poll must
      // reach the instance that holds the session, or the client reconnects.
      for (let i = 1; i <= 20; i++) {
        p.send(room, `p${i}`);
        o.send(room, `o${i}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const all = (c: SwitchboardClient) =>
        texts(c, room).filter((t) => /^[po]\d+$/.test(t)).length === 40;
      await until("both see all 40 messages", () => all(p) && all(o));
      assert.deepEqual(statuses, [], "the polling client stayed connected throughout");
      assert.equal(instanceOf(p.status), poller.home);
      const offsets = p.rooms.get(room)?.messages.map((m) => m.offset) ?? [];
      assert.deepEqual(
        offsets,
        Array.from({ length: 40 }, (_unused, i) => i + 1),
      );
    });

    test("after kill -9 of their instance, users are back on another, logged in, with nothing lost", async () => {
      const room = uniqueName("r").toLowerCase();
      const watcher = await userOn(() => true);
      const w = await client(watcher, room, ["websocket"]);
      const user = await userOn((instance) => instance !== watcher.home);
      const victim = instances.find((instance) => instance.id === user.home);
      assert.ok(victim);
      // The user's browser, with one tab on WebSocket and one held to long-polling
      // (as behind a proxy that blocks WebSockets): one cookie jar for both.
      const ws = await client(user, room);
      const poll = await client(user, room, ["polling"]);
      assert.equal(instanceOf(ws.status), victim.id);
      assert.equal(instanceOf(poll.status), victim.id);
      let loggedOut = 0;
      for (const c of [ws, poll]) c.on("logged-out", () => loggedOut++);

      w.send(room, "before");
      await until("everyone sees the first message", () =>
        [w, ws, poll].every((c) => texts(c, room).includes("before")),
      );

      await victim.stop("SIGKILL");
      for (let i = 1; i <= 5; i++) w.send(room, `while away ${i}`);
      ws.send(room, "from the WebSocket tab");
      poll.send(room, "from the polling tab");

      await until(
        "both tabs are connected to another instance",
        () =>
          [ws, poll].every((c) => {
            const now = instanceOf(c.status);
            return now !== undefined && now !== victim.id;
          }),
        20_000,
      );
      assert.equal(loggedOut, 0, "nobody was sent to the login page");
      assert.equal(ws.user, user.name);
      assert.equal(poll.user, user.name);
      const expected = [
        "before",
        "while away 1",
        "while away 2",
        "while away 3",
        "while away 4",
        "while away 5",
        "from the WebSocket tab",
        "from the polling tab",
      ];
      // A sender can see its own message (live, or in a catch-up) before the
      // acknowledgement that takes it out of the outbox: wait for both.
      await until(
        "every message reaches everyone, and every send is acknowledged",
        () =>
          [w, ws, poll].every(
            (c) => texts(c, room).length === expected.length && c.outbox.all().length === 0,
          ),
        20_000,
      );
      for (const [label, c] of [
        ["watcher", w],
        ["WebSocket tab", ws],
        ["polling tab", poll],
      ] as const) {
        const messages = c.rooms.get(room)?.messages ?? [];
        assert.deepEqual(
          [...messages.map((m) => m.text)].sort(),
          [...expected].sort(),
          `the ${label} has each message once`,
        );
        assert.deepEqual(
          messages.map((m) => m.offset),
          [1, 2, 3, 4, 5, 6, 7, 8],
          `the ${label} shows them in order`,
        );
      }
      // The watcher's five messages keep the order they were sent in.
      const mine = texts(w, room).filter((t) => t.startsWith("while away"));
      assert.deepEqual(mine, expected.slice(1, 6));
    });
  });
}
