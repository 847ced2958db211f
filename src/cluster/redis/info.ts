import { connect } from "node:net";

/**
 * `INFO <section>` of the Redis (or Sentinel) on a loopback port, as
 * `field -> value`; undefined when it does not answer within `timeoutMs`.
 * A plain socket rather than a client: it is asked once a second per node,
 * and a node that is down must cost nothing but a refused connection.
 */
export function redisInfo(
  port: number,
  section: string,
  timeoutMs = 500,
): Promise<Map<string, string> | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = Buffer.alloc(0);
    const done = (value: Map<string, string> | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once("error", () => done(undefined));
    socket.once("close", () => done(undefined));
    socket.on("data", (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      // A bulk string: `$<length>\r\n<payload>\r\n`; anything else (an -ERR) is no answer.
      if (reply[0] !== 0x24) return done(undefined);
      const header = reply.indexOf("\r\n");
      if (header === -1) return;
      const length = Number(reply.subarray(1, header).toString("latin1"));
      const body = reply.subarray(header + 2);
      if (body.length < length) return;
      done(parseInfo(body.subarray(0, length).toString("utf8")));
    });
    socket.write(`INFO ${section}\r\n`);
  });
}

/** `field:value` lines; `# Section` headers and blank lines are skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}
