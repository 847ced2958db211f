import express, { type RequestHandler } from "express";
import helmet from "helmet";
import type { HealthResponse } from "../../protocol/index.ts";
import { originGuard } from "../auth/origin.ts";
import type { Logger } from "../logger.ts";
import type { MetricsRoutes } from "../metrics/index.ts";
import { PUBLIC_DIR } from "../paths.ts";
import type { AccountStore } from "../store/account-store.ts";
import type { AuthLimits } from "./auth-limits.ts";
import { authRoutes } from "./auth-routes.ts";
import { errorHandler, notFound } from "./errors.ts";
import { requestLog } from "./request-log.ts";

export interface AppDeps {
  log: Logger;
  instanceId: string;
  sessionCookieName: string;
  session: RequestHandler;
  accounts: AccountStore;
  redisReady: () => boolean;
  health: () => Omit<HealthResponse, "status" | "instance">;
  endSessionSockets: (sessionId: string) => void;
  /** Largest JSON body accepted, in bytes. */
  bodyLimit: number;
  allowedOrigins: readonly string[];
  trustProxy: boolean | number | string;
  authLimits: AuthLimits;
  metrics?: MetricsRoutes;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("sessionCookieName", deps.sessionCookieName);
  // X-Forwarded-Proto from the router tells express-session when the user came over HTTPS,
  // X-Forwarded-For gives the address that login limits count.
  app.set("trust proxy", deps.trustProxy);

  app.use((_req, res, next) => {
    res.set("X-Instance-Id", deps.instanceId);
    next();
  });
  app.use(requestLog(deps.log));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          "script-src": ["'self'"],
          "style-src": ["'self'"],
          "img-src": ["'self'", "data:"],
          "connect-src": ["'self'"],
          "upgrade-insecure-requests": null,
        },
      },
    }),
  );

  app.get("/healthz", (_req, res) => {
    const body: HealthResponse = { status: "ok", instance: deps.instanceId, ...deps.health() };
    res.json(body);
  });
  app.get("/readyz", (_req, res) => {
    const health = deps.health();
    const ready = deps.redisReady() && !health.draining;
    // A full Redis leaves the instance ready: it still serves history and
    // presence, and every instance shares that Redis, so taking them out of
    // routing would only make it worse. The body says why sends fail.
    res.status(ready ? 200 : 503).json({
      ready,
      instance: deps.instanceId,
      redis: deps.redisReady(),
      storage: health.storage,
      ...(health.storage === "full"
        ? { reason: "Redis is at its memory limit; sends are refused with storage_full" }
        : {}),
    });
  });

  if (deps.metrics !== undefined) {
    app.get("/metrics", deps.metrics.handler);
    app.use("/api", deps.metrics.observeApi);
  }

  app.use(
    "/api",
    originGuard(deps.allowedOrigins),
    express.json({ limit: deps.bodyLimit, strict: true }),
    deps.session,
    authRoutes({
      limits: deps.authLimits,
      accounts: deps.accounts,
      instanceId: deps.instanceId,
      endSessionSockets: deps.endSessionSockets,
    }),
  );
  app.use("/api", notFound);

  app.use(express.static(PUBLIC_DIR, { index: "index.html", maxAge: 0 }));
  app.use(notFound);
  app.use(errorHandler(deps.log, deps.redisReady));
  return app;
}
