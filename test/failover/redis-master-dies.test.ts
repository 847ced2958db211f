import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { RedisNode } from "../../src/cluster/redis/node.ts";
import {
  HandshakeRefusal,
  type JoinResult,
  type Message,
  type Result,
} from "../../src/protocol/index.ts";
import { TestInstance } from "../helpers/instance.ts";
import { redisModes, startTopology } from "../helpers/redis-topology.ts";
import {
  onMessages,
  type RawSocket,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "../helpers/users.ts";

type Topology = Awaited<ReturnType<typeof startTopology>>;

/**
 * `kill -9` of the Redis master under a chatting user, on Sentinel and on
 * Cluster: what the user notices is that a send is answered `unavailable`
 * (never `internal`) for a few seconds and then goes through, that every
 * message acknowledged before, during and after is in the history once and
 * in order, and that messages keep reaching the other instance live.
 */
// One kill per topology in `npm test`; `npm run test:failover` repeats them (SB_FAILOVER_REPEAT).
const rounds = Math.max(1, Number(process.env.SB_FAILOVER_REPEAT ?? 1));
for (let round = 1; round <= rounds; round++)
  for (const mode of redisModes().filter((m) => m !== "single")) {
    describe(`a Redis master dies (${mode}${rounds > 1 ? `, round ${round}` : ""})`, () => {
      let topology: Topology;
      let a: TestInstance;
      let b: TestInstance;
      const sockets: RawSocket[] = [];

      before(async () => {
        topology = await startTopology(mode, { replicas: true });
        const env = {
          ...topology.env,
          SESSION_SECRET: "test-secret-0123456789abcdef",
          MESSAGE_RATE_PER_SECOND: "0",
        };
        // One after the other: two cold starts at once on a busy 2-core machine can take 15 s.
        a = await TestInstance.start({ ...env, INSTANCE_ID: `${mode}-a` });
        b = await TestInstance.start({ ...env, INSTANCE_ID: `${mode}-b` });
      });

      after(async () => {
        for (const socket of sockets) socket.disconnect();
        await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
        await topology?.close();
      });

      /**
       * Connects as the app's client does: a handshake refused as
       * `unavailable` (the session could not be read in time: on a busy
       * machine a Cluster command can take longer than the instance waits)
       * is tried again, any other refusal fails the test.
       */
      async function connected(baseUrl: string, jar: Parameters<typeof rawSocket>[1]) {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const socket = rawSocket(baseUrl, jar, ["websocket"]);
          sockets.push(socket);
          try {
            await socketReady(socket);
            return socket;
          } catch (error) {
            socket.disconnect();
            const refusal = (error as Error).message;
            if (refusal !== HandshakeRefusal.Unavailable || Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      }

      async function joined(baseUrl: string, jar: Parameters<typeof rawSocket>[1], room: string) {
        const socket = await connected(baseUrl, jar);
        const result = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
        assert.ok(result.ok, JSON.stringify(result));
        return socket;
      }

      /** Sends like the client's outbox: the same clientId until the ack says ok. */
      async function sendUntilOk(socket: RawSocket, room: string, text: string, codes: string[]) {
        const clientId = uniqueName("c");
        const deadline = Date.now() + 30_000;
        for (;;) {
          const reply = (await socket
            .timeout(5000)
            .emitWithAck("message:send", { room, text, clientId })
            .catch(() => ({ ok: false, error: { code: "no ack" } }))) as Result<{
            message: Message;
          }>;
          if (reply.ok) return reply.message;
          codes.push(reply.error.code);
          if (Date.now() > deadline)
            assert.fail(`no send went through in 30 s: ${codes.join(",")}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }

      test("sends answer unavailable, then go through; nothing acknowledged is lost", async () => {
        const ann = await registeredUser(a.url);
        const bob = await registeredUser(b.url);
        const room = uniqueName("fo").toLowerCase();
        const sa = await joined(a.url, ann.jar, room);
        const sb = await joined(b.url, bob.jar, room);
        const live: Message[] = [];
        onMessages(sb, (m) => live.push(m));

        // On a Cluster, a room whose master stays up keeps working throughout.
        let healthyRoom: string | undefined;
        let victim: RedisNode;
        if (topology.cluster !== undefined) {
          const cluster = topology.cluster;
          const master = await cluster.masterOf(`sb:{room:${room}}:log`);
          for (let i = 0; healthyRoom === undefined; i++) {
            const candidate = `${room}-h${i}`;
            if ((await cluster.masterOf(`sb:{room:${candidate}}:log`)) !== master) {
              healthyRoom = candidate;
            }
          }
        }
        const sh =
          healthyRoom === undefined ? undefined : await joined(a.url, ann.jar, healthyRoom);

        const acked: Message[] = [];
        const codes: string[] = [];
        for (let i = 1; i <= 5; i++) acked.push(await sendUntilOk(sa, room, `before ${i}`, codes));

        const killedAt = Date.now();
        if (topology.cluster !== undefined) {
          victim = await topology.cluster.killMasterOf(`sb:{room:${room}}:log`);
        } else if (topology.sentinel !== undefined) {
          victim = await topology.sentinel.killMaster();
        } else {
          throw new Error("no replicas to fail over to");
        }

        // Redis's own failover time, as its Sentinels or nodes report it, to set ours against.
        const promoted =
          topology.cluster !== undefined
            ? topology.cluster.waitFailover(`sb:{room:${room}}:log`, victim, 30_000)
            : topology.sentinel?.waitFailover(victim, 30_000);
        const redisFailoverMs = promoted?.then(() => Date.now() - killedAt);

        if (sh !== undefined && healthyRoom !== undefined) {
          const healthyCodes: string[] = [];
          await sendUntilOk(sh, healthyRoom, "on a healthy shard", healthyCodes);
          assert.ok(
            Date.now() - killedAt < 2500,
            `a room on a healthy shard waited ${Date.now() - killedAt} ms (${healthyCodes.join(",")})`,
          );
        }

        // Sends during the failover: each one retried until it is acknowledged.
        acked.push(await sendUntilOk(sa, room, "during 1", codes));
        const recoveredMs = Date.now() - killedAt;
        for (let i = 2; i <= 5; i++) acked.push(await sendUntilOk(sa, room, `during ${i}`, codes));
        assert.ok(
          codes.every((code) => code === "unavailable" || code === "no ack"),
          `answers while failing over: ${codes.join(",")}`,
        );

        // Every acknowledged message is in the history, once, in order, with no hole.
        const reader = await joined(b.url, bob.jar, room);
        const history = (await reader.emitWithAck("room:join", { room })) as Result<JoinResult>;
        assert.ok(history.ok);
        assert.deepEqual(
          history.messages.map((m) => m.text),
          acked.map((m) => m.text),
        );
        assert.deepEqual(
          history.messages.map((m) => m.offset),
          acked.map((_m, i) => i + 1),
        );

        // Every message reaches the other instance's socket without it asking,
        // those sent while its subscription moved to the new master too (what
        // the move missed is read from the history once it is back).
        const last = await sendUntilOk(sa, room, "after", codes);
        acked.push(last);
        const deadline = Date.now() + 5000;
        const missing = () => acked.filter((m) => !live.some((l) => l.id === m.id));
        while (missing().length > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.deepEqual(
          missing().map((m) => m.text),
          [],
          "B's socket got every message live, during and after the failover",
        );
        assert.ok(!victim.running);

        const readyDeadline = Date.now() + 5000;
        let ready = 0;
        while (ready !== 200 && Date.now() < readyDeadline) {
          ready = (await fetch(`${b.url}/readyz`)).status;
          if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(ready, 200, "/readyz is 200 again");
        process.stderr.write(
          `# ${mode}: Redis failed over in ${await redisFailoverMs} ms; the first send went through ${recoveredMs} ms after kill -9 (${codes.length} refusals)\n`,
        );
      });
    });
  }
