/**
 * A latency histogram that merges across worker processes: 0.1 ms buckets up
 * to 100 ms, 1 ms buckets up to 1 s, 10 ms buckets up to 60 s, one bucket
 * above. Percentiles are read by nearest rank and reported as the upper edge
 * of their bucket (never above the largest value seen).
 */
const FINE = 1000;
const MEDIUM = 900;
const COARSE = 5900;
const BUCKETS = FINE + MEDIUM + COARSE + 1;

function bucketOf(ms: number): number {
  if (ms < 100) return Math.max(0, Math.floor(ms * 10));
  if (ms < 1000) return FINE + Math.floor(ms - 100);
  if (ms < 60_000) return FINE + MEDIUM + Math.floor((ms - 1000) / 10);
  return BUCKETS - 1;
}

function upperEdge(bucket: number): number {
  if (bucket < FINE) return (bucket + 1) / 10;
  if (bucket < FINE + MEDIUM) return 100 + (bucket - FINE + 1);
  if (bucket < BUCKETS - 1) return 1000 + (bucket - FINE - MEDIUM + 1) * 10;
  return Number.POSITIVE_INFINITY;
}

/** What travels between processes: non-empty buckets only. */
export interface HistogramData {
  buckets: [number, number][];
  count: number;
  max: number;
  sum: number;
}

export class Histogram {
  private counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const value = Math.max(ms, 0);
    const bucket = bucketOf(value);
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  merge(data: HistogramData): void {
    for (const [bucket, n] of data.buckets) this.counts[bucket] = (this.counts[bucket] ?? 0) + n;
    this.count += data.count;
    this.sum += data.sum;
    if (data.max > this.max) this.max = data.max;
  }

  /** Nearest-rank percentile (0-100) in ms; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank) return Math.min(upperEdge(bucket), this.max);
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  toData(): HistogramData {
    const buckets: [number, number][] = [];
    this.counts.forEach((n, bucket) => {
      if (n > 0) buckets.push([bucket, n]);
    });
    return { buckets, count: this.count, max: this.max, sum: this.sum };
  }

  static from(data: HistogramData): Histogram {
    const histogram = new Histogram();
    histogram.merge(data);
    return histogram;
  }
}
