import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type AdminHandler, RouterErrorCode, sendError } from "../router/index.ts";
import { serveDashboard } from "./dashboard.ts";
import type { LocalRedis } from "./redis/local-topology.ts";
import type { StatsPoller } from "./stats.ts";
import { OperationError, type Supervisor } from "./supervisor.ts";

const BODY_LIMIT = 10_000;

const restartBody = z.object({ strategy: z.enum(["all", "rolling"]).default("all") });
const scaleBody = z.object({ instances: z.number().int() });

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The JSON body of a POST; an empty body reads as `{}`. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new BadRequest("the body is too large", 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) {
    throw new BadRequest("send the body as application/json", 415);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("the body is not valid JSON");
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new BadRequest(
    parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
  );
}

/**
 * The cluster's admin API and dashboard, under the router's admin prefix
 * (which only lets loopback callers in):
 *
 * - `GET  /_cluster`                     the dashboard
 * - `GET  /_cluster/instances`           `[{id, port, pid, state, startedAt, sockets}]`
 * - `GET  /_cluster/stats`               instances plus router connections and messages/s
 * - `POST /_cluster/instances/:id/kill`  SIGKILL (a crash; replaced after a short delay)
 * - `POST /_cluster/instances/:id/stop`  SIGTERM (a drain; replaced at once)
 * - `POST /_cluster/restart`             `{"strategy": "all" | "rolling"}`
 * - `POST /_cluster/scale`               `{"instances": n}`
 * - `GET  /_cluster/redis`               the Redis nodes and their roles (RedisStats)
 * - `POST /_cluster/redis/:id/kill`      SIGKILL a Redis node (a crash: watch the failover)
 * - `POST /_cluster/redis/:id/start`     start a killed node again, on its port and data
 */
export function createAdminApi(
  supervisor: Supervisor,
  stats: StatsPoller,
  redis: LocalRedis,
  prefix = "/_cluster",
): AdminHandler {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.slice(prefix.length) || "/";
    const method = req.method ?? "GET";
    try {
      if (method === "GET" || method === "HEAD") {
        if (serveDashboard(path, req, res)) return;
        if (path === "/instances") return sendJson(res, 200, supervisor.list());
        if (path === "/stats") return sendJson(res, 200, stats.snapshot());
        if (path === "/redis") return sendJson(res, 200, await redis.stats());
      }
      if (method === "POST") {
        const action = /^\/instances\/([A-Za-z0-9_.-]{1,64})\/(kill|stop)$/.exec(path);
        if (action !== null) {
          const [, id = "", verb] = action;
          await readJson(req);
          const info = verb === "kill" ? supervisor.kill(id) : supervisor.stop(id);
          return sendJson(res, 202, info);
        }
        const redisAction = /^\/redis\/([A-Za-z0-9_.-]{1,64})\/(kill|start)$/.exec(path);
        if (redisAction !== null) {
          const [, id = "", verb] = redisAction;
          await readJson(req);
          if (verb === "kill") return sendJson(res, 202, await redis.kill(id));
          return sendJson(res, 200, await redis.start(id));
        }
        if (path === "/restart") {
          const { strategy } = parse(restartBody, await readJson(req));
          return sendJson(res, 200, await supervisor.restart(strategy));
        }
        if (path === "/scale") {
          const { instances } = parse(scaleBody, await readJson(req));
          return sendJson(res, 200, await supervisor.scale(instances));
        }
      }
      sendError(res, 404, RouterErrorCode.NotFound, `no ${method} ${url.pathname} here`);
    } catch (error) {
      if (error instanceof BadRequest) {
        sendError(res, error.status, RouterErrorCode.InvalidInput, error.message);
      } else if (error instanceof OperationError) {
        const code =
          error.status === 404
            ? RouterErrorCode.NotFound
            : error.status === 400 || error.status === 409
              ? RouterErrorCode.InvalidInput
              : error.status === 503
                ? RouterErrorCode.Unavailable
                : RouterErrorCode.Internal;
        sendError(res, error.status, code, error.message);
      } else {
        throw error;
      }
    }
  };
}
