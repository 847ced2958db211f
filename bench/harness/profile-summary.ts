import { readFileSync } from "node:fs";
import { basename } from "node:path";

/**
 * Reads what `npm run bench -- --profile DIR` wrote and prints where the time
 * and the memory went, as text:
 *
 *   node --import tsx bench/harness/profile-summary.ts DIR/switchboard-throughput-*.cpuprofile
 *   node --max-old-space-size=8192 --import tsx bench/harness/profile-summary.ts DIR/x.heapsnapshot [connections]
 *   node --max-old-space-size=8192 --import tsx bench/harness/profile-summary.ts DIR/x-before.heapsnapshot DIR/x-after.heapsnapshot 3333
 *
 * CPU profiles: self time by package (node_modules/<name>, src/<folder>, node
 * internals, GC) and by function. Heap snapshots: self size by constructor
 * (and, given the number of connections the instance held, per connection);
 * given a "before" and an "after" snapshot, the growth between them.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The package or source folder a script belongs to. */
export function packageOf(url: string, functionName: string): string {
  if (url === "") {
    if (functionName === "(garbage collector)") return "(gc)";
    if (functionName === "(idle)" || functionName === "(program)") return functionName;
    return "(native)";
  }
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const src = url.indexOf("/src/");
  if (src >= 0)
    return `src/${url
      .slice(src + 5)
      .split("/")
      .slice(0, -1)
      .join("/")}`;
  const bench = url.indexOf("/bench/");
  if (bench >= 0) return `bench/${url.slice(bench + 7).split("/")[0]}`;
  return basename(url);
}

function top(map: Map<string, number>, total: number, count: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(
      ([name, ms]) =>
        `  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${name}`,
    );
}

export function summarizeCpuProfile(profile: CpuProfile, count = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    total += ms;
    const pkg = packageOf(frame.url, frame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const fn = `${frame.functionName || "(anonymous)"} ${pkg}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const wall = (profile.endTime - profile.startTime) / 1000;
  return [
    `wall ${wall.toFixed(0)} ms, busy ${total.toFixed(0)} ms (${((100 * total) / wall).toFixed(0)}% of one core), idle ${idle.toFixed(0)} ms`,
    "self time by package:",
    ...top(byPackage, total, count),
    "self time by function:",
    ...top(byFunction, total, count),
  ].join("\n");
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count of the objects of a snapshot, by constructor (or by type for the rest). */
function heapCensus(heap: HeapSnapshot): Map<string, { size: number; count: number }> {
  const fields = heap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = heap.snapshot.meta.node_types[0];
  const bySize = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] ?? 0] ?? "?";
    const rawName = heap.strings[heap.nodes[i + nameAt] ?? 0] ?? "";
    const size = heap.nodes[i + sizeAt] ?? 0;
    // Strings and code are grouped by type; objects by constructor.
    const name =
      type === "object" || type === "closure" || type === "native"
        ? `${type} ${rawName.slice(0, 60)}`
        : `(${type})`;
    const entry = bySize.get(name) ?? { size: 0, count: 0 };
    entry.size += size;
    entry.count += 1;
    bySize.set(name, entry);
  }
  return bySize;
}

export function summarizeHeapSnapshot(
  heap: HeapSnapshot,
  connections: number,
  before?: HeapSnapshot,
  count = 40,
): string {
  const bySize = heapCensus(heap);
  if (before !== undefined) {
    for (const [name, { size, count: n }] of heapCensus(before)) {
      const entry = bySize.get(name) ?? { size: 0, count: 0 };
      entry.size -= size;
      entry.count -= n;
      bySize.set(name, entry);
    }
  }
  let total = 0;
  for (const { size } of bySize.values()) total += size;
  const rows = [...bySize]
    .sort((a, b) => b[1].size - a[1].size)
    .slice(0, count)
    .map(([name, { size, count: n }]) => {
      const per = connections > 0 ? `${(size / connections).toFixed(0).padStart(6)} B/conn` : "";
      return `  ${(size / 2 ** 20).toFixed(2).padStart(8)} MB ${String(n).padStart(8)}x ${per}  ${name}`;
    });
  return [
    `${before === undefined ? "total self size" : "growth"} ${(total / 2 ** 20).toFixed(1)} MB${connections > 0 ? `, ${(total / connections / 1024).toFixed(1)} KB per connection` : ""}`,
    ...rows,
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const files = process.argv.slice(2).filter((a) => !/^\d+$/.test(a));
  const connections = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 0);
  const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as unknown;
  const snapshots = files.filter((f) => f.endsWith(".heapsnapshot"));
  if (snapshots.length === 2 && snapshots[0] !== undefined && snapshots[1] !== undefined) {
    process.stdout.write(`\n== ${basename(snapshots[1])} minus ${basename(snapshots[0])}\n`);
    const before = read(snapshots[0]) as HeapSnapshot;
    const after = read(snapshots[1]) as HeapSnapshot;
    process.stdout.write(`${summarizeHeapSnapshot(after, connections, before)}\n`);
  } else {
    for (const file of files) {
      process.stdout.write(`\n== ${basename(file)}\n`);
      process.stdout.write(
        `${
          file.endsWith(".heapsnapshot")
            ? summarizeHeapSnapshot(read(file) as HeapSnapshot, connections)
            : summarizeCpuProfile(read(file) as CpuProfile)
        }\n`,
      );
    }
  }
}
