import { io } from "socket.io-client";
import type { ClientSpec } from "../load/ipc.ts";
import { now } from "../load/stamp.ts";
import { type ScenarioContext, sleep, summarize, waitForDeliveries } from "./context.ts";
import type { BigRoomResult, BigRoomRound } from "./results.ts";
import { stormOf } from "./storm.ts";
import { COOKIE_NAME } from "./systems.ts";

/** Switchboard's presence window (PRESENCE_WINDOW_MS, its default), for frames per window. */
const PRESENCE_WINDOW_MS = 250;

/**
 * Scenario 5, a big room: the clients connect straight to the instances'
 * ports (through the router, 10,000 connections would need more file
 * descriptors than this machine allows), each a user of its own, all in one
 * room. Then: the size of one more `room:join` acknowledgement, the time for
 * one message to reach everyone, and a reconnect storm (`stormOf`): the
 * instance holding a third of them is killed with SIGKILL, and its clients
 * reconnect to the others (each client knows every instance's address and
 * picks another at random). The same clients then do the same spread over
 * many rooms, at the same messages per room and second, so that each client
 * receives as much and has as much to catch up in both rounds.
 */
export async function runBigRoom(ctx: ScenarioContext): Promise<BigRoomResult> {
  const settings = ctx.config.bigroom;
  const oneRoom = await bigRoomRound(ctx, 1, "big", 1);
  await replaced(ctx);
  const manyRooms = await bigRoomRound(ctx, settings.rooms, "many", 3);
  return { clients: settings.clients, oneRoom, manyRooms };
}

/** Waits until the supervisor has replaced the killed instance and no socket is left over. */
async function replaced(ctx: ScenarioContext): Promise<void> {
  const want = ctx.config.instances;
  await ctx.system.cluster.waitForInstances(
    (list) => list.filter((i) => i.state === "running").length >= want,
  );
  const deadline = now() + 60_000;
  for (const instance of await ctx.system.running()) {
    while (now() < deadline && (await socketsOf(instance.port)) > 0) await sleep(200);
  }
}

async function socketsOf(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return ((await res.json()) as { sockets: number }).sockets;
  } catch {
    return 0;
  }
}

async function bigRoomRound(
  ctx: ScenarioContext,
  rooms: number,
  prefix: string,
  step: number,
): Promise<BigRoomRound> {
  const settings = ctx.config.bigroom;
  const instances = await ctx.system.running();
  const urls = instances.map((i) => `http://127.0.0.1:${i.port}`);
  // One login more, for the client whose join is measured.
  const logins = await ctx.system.ownLogins(settings.clients + 1);
  const roomOf = (index: number) => `${prefix}${ctx.tag}${index % rooms}`;
  const clients: ClientSpec[] = Array.from({ length: settings.clients }, (_unused, index) => {
    const url = urls[index % urls.length] ?? "";
    return {
      system: ctx.system.name,
      group: ctx.group,
      index,
      url,
      fallbackUrls: urls.filter((other) => other !== url),
      cookie: { name: COOKIE_NAME, value: logins[index] ?? "" },
      rooms: [roomOf(index)],
    };
  });
  let connectSeconds = 0;
  let joinAck: BigRoomRound["joinAck"] = { bytes: Number.NaN, members: 0, memberCount: 0 };
  let broadcast: BigRoomRound["broadcast"];
  const started = now();
  const storm = await stormOf(ctx, clients, {
    rooms,
    rate: settings.ratePerRoom * rooms,
    calmMs: settings.calmMs,
    maxWaitMs: settings.maxWaitMs,
    drainMs: settings.drainMs,
    connect: { concurrency: settings.concurrency, timeoutMs: settings.connectTimeoutMs },
    label: rooms === 1 ? " (one room)" : ` (${rooms} rooms)`,
    profile: false,
    step,
    connected: async (connect) => {
      connectSeconds = (now() - started) / 1000;
      joinAck = await measureJoin(urls[0] ?? "", logins[settings.clients] ?? "", roomOf(0));
      ctx.log(
        `  ${ctx.system.name}: ${connect.connected} connected in ${connectSeconds.toFixed(1)} s; ` +
          `a join's acknowledgement: ${joinAck.bytes} bytes, ${joinAck.members} of ${joinAck.memberCount} members`,
      );
      if (rooms !== 1) return;
      // One message, from one client, to all of them.
      await ctx.load.begin(ctx.tag, step - 1);
      await ctx.load.send(ctx.group, 1, 0);
      await waitForDeliveries(ctx, connect.connected, 60_000);
      const receipts = await ctx.load.collect();
      broadcast = {
        expected: connect.connected,
        delivered: receipts.unique,
        latency: summarize(receipts.latency),
      };
      ctx.log(
        `  ${ctx.system.name}: one message reached ${receipts.unique} of ${connect.connected} in ${Math.round(receipts.latency.max)} ms`,
      );
    },
  });
  const frames = storm.presenceFrames ?? 0;
  const windows = Math.max(1, Math.ceil((storm.stormSeconds * 1000) / PRESENCE_WINDOW_MS));
  const round: BigRoomRound = {
    rooms,
    connected: storm.clients,
    failed: settings.clients - storm.clients,
    connectSeconds,
    joinAck,
    ...(broadcast === undefined ? {} : { broadcast }),
    storm,
    presenceFramesPerRejoin: frames / Math.max(1, storm.reconnected),
    presenceFramesPerMember: frames / Math.max(1, storm.clients),
    presenceFramesPerMemberPerWindow: frames / Math.max(1, storm.clients) / windows,
    windows,
  };
  ctx.log(
    `  ${ctx.system.name}: ${frames} presence frames in the storm (${storm.presenceCountFrames ?? 0} of them a count alone, ` +
      `the rest batches with names): ${round.presenceFramesPerRejoin.toFixed(2)} per rejoin, ` +
      `${round.presenceFramesPerMember.toFixed(2)} per member over ${windows} windows ` +
      `(${(round.presenceFramesPerMemberPerWindow ?? 0).toFixed(3)} per member and window)`,
  );
  return round;
}

/**
 * One more user joins the room: the size of the acknowledgement's JSON (what
 * travels, less Socket.IO's few bytes of framing), the members it names and
 * the room's count it says.
 */
async function measureJoin(
  url: string,
  cookie: string,
  room: string,
): Promise<BigRoomRound["joinAck"]> {
  const socket = io(url, {
    reconnection: false,
    forceNew: true,
    transports: ["websocket"],
    extraHeaders: { cookie: `${COOKIE_NAME}=${cookie}` },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("the measuring client did not connect")),
        30_000,
      );
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("connect_error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const ack = (await socket.timeout(30_000).emitWithAck("room:join", { room })) as {
      members?: unknown;
      memberCount?: unknown;
    };
    const members = Array.isArray(ack.members) ? ack.members.length : 0;
    const memberCount = typeof ack.memberCount === "number" ? ack.memberCount : members;
    return { bytes: Buffer.byteLength(JSON.stringify(ack)), members, memberCount };
  } finally {
    socket.disconnect();
  }
}
