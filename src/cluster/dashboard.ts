import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
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

function read(file: string): Buffer {
  let body = cache.get(file);
  if (body === undefined) {
    body = readFileSync(new URL(`./dashboard/${file}`, import.meta.url));
    cache.set(file, body);
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
