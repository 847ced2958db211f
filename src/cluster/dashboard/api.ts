import type { ClusterStats } from "../admin-contract.ts";

const API = "/_cluster";

/** The message of an error answer (`{error: {code, message}}`), when it has one. */
function messageOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const error = body.error;
  if (typeof error !== "object" || error === null || !("message" in error)) return undefined;
  return typeof error.message === "string" ? error.message : undefined;
}

export async function fetchStats(): Promise<ClusterStats> {
  const res = await fetch(`${API}/stats`, { cache: "no-store" });
  if (!res.ok)
    throw new Error(messageOf(await res.json().catch(() => ({}))) ?? `HTTP ${res.status}`);
  // The supervisor serving this page is the one that wrote the contract: trusted as typed.
  return (await res.json()) as ClusterStats;
}

export async function post(path: string, body: unknown = {}): Promise<unknown> {
  const res = await fetch(`${API}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const data: unknown = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(messageOf(data) ?? `HTTP ${res.status}`);
  return data;
}
