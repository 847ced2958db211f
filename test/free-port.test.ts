import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { ephemeralRange, freePort } from "../src/process/index.ts";

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

test("a port for a child is one no outgoing connection can take before the child listens", async () => {
  const { low } = ephemeralRange();
  const target = await listen(0);
  const targetPort = (target.address() as { port: number }).port;
  const picked: number[] = [];
  const outgoing: Socket[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      picked.push(await freePort());
      // What other tests and the instances do meanwhile: connect out, on ports the OS picks.
      const socket = connect(targetPort, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      outgoing.push(socket);
    }
    assert.equal(new Set(picked).size, picked.length, "no port is handed out twice");
    for (const port of picked)
      assert.ok(port < low, `${port} is below the ephemeral range (${low})`);
    assert.ok(outgoing.every((socket) => (socket.localPort ?? 0) >= low));
    // Every picked port can still be listened on, after all those connections.
    for (const port of picked)
      await new Promise((resolve) => listen(port).then((s) => s.close(resolve)));
  } finally {
    for (const socket of outgoing) socket.destroy();
    target.close();
  }
});
