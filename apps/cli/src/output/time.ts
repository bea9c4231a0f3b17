/** "4s", "3m 05s", "2h 10m", "3d 4h": short enough for a table column. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** "12s ago" for an ISO time; "-" when absent or unreadable. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '-';
  return `${formatDuration(now - at)} ago`;
}

/** Time between two ISO instants, the second defaulting to now (still running). */
export function formatElapsed(startIso: string, endIso: string | null, now: number): string {
  const start = Date.parse(startIso);
  const end = endIso ? Date.parse(endIso) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return '-';
  return formatDuration(end - start);
}
