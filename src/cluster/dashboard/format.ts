/** "1 socket", "2 sockets". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** Whole seconds from `from` (an ISO date) to `now` (ms), never negative. */
export function secondsSince(from: string, now: number): number {
  return Math.max(0, Math.round((now - Date.parse(from)) / 1000));
}

export const MB = 1024 * 1024;

/** A figure for an axis label or a caption: 3 significant digits at most, no noise. */
export function figure(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1).replace(/\.0$/, "");
  return value.toFixed(2).replace(/\.?0+$/, "");
}
