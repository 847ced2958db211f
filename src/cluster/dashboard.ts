import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

const here = (file: string) => new URL(`./dashboard/${file}`, import.meta.url);

const FILES: Record<string, { file: URL; type: string }> = {
  "/": { file: here("index.html"), type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: here("dashboard.js"), type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: here("dashboard.css"), type: "text/css; charset=utf-8" },
  // The chat's own styles, so that the dashboard looks like the app (and works with no instance up).
  "/app.css": {
    file: new URL("../client/ui/app.css", import.meta.url),
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

function read(file: URL): Buffer {
  let body = cache.get(file.href);
  if (body === undefined) {
    body = readFileSync(file);
    cache.set(file.href, body);
  }
  return body;
}

/** Serves the dashboard's page, script and styles; false for any other path. */
export function serveDashboard(path: string, req: IncomingMessage, res: ServerResponse): boolean {
  const entry = FILES[path];
  if (entry === undefined) return false;
  const body = read(entry.file);
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
