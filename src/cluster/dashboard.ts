import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { RouterErrorCode, sendError } from "../router/index.ts";

/** `npm run build` bundles the dashboard's TypeScript and copies its page and styles here. */
const BUILT = new URL("../../dist/dashboard/", import.meta.url);
const built = (file: string) => new URL(file, BUILT);

const FILES: Record<string, { file: URL; type: string }> = {
  "/": { file: built("index.html"), type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: built("dashboard.js"), type: "text/javascript; charset=utf-8" },
  "/dashboard.js.map": { file: built("dashboard.js.map"), type: "application/json" },
  "/dashboard.css": { file: built("dashboard.css"), type: "text/css; charset=utf-8" },
  // The chat's own styles, so that the dashboard looks like the app (and works with no instance up).
  "/app.css": {
    file: new URL("../../dist/public/app.css", import.meta.url),
    type: "text/css; charset=utf-8",
  },
};

/** No inline script or style anywhere, so the page runs under a strict policy. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const cache = new Map<string, Buffer>();

/** The file's bytes, or undefined when it is not there (not built yet). */
function read(file: URL): Buffer | undefined {
  let body = cache.get(file.href);
  if (body === undefined) {
    try {
      body = readFileSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    // Only what was found is kept: a build made while the cluster runs is picked up.
    cache.set(file.href, body);
  }
  return body;
}

/** Serves the dashboard's page, script and styles; false for any other path. */
export function serveDashboard(path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const entry = FILES[path];
  if (entry === undefined) return false;
  const body = read(entry.file);
  if (body === undefined) {
    sendError(
      res,
      503,
      RouterErrorCode.Unavailable,
      "the dashboard is not built: run `npm run build`, then reload",
    );
    return true;
  }
  res.writeHead(200, {
    "content-type": entry.type,
    "content-length": body.length,
    "cache-control": "no-store",
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  res.end(req.method === "HEAD" ? undefined : body);
  return true;
}
