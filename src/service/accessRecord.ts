/**
 * One HTTP request as the access log sees it (`enose serve` and `enose fleet`): the path without its query
 * (a `/login?token=` query holds the secret) and no header at all (no bearer token, no cookie).
 */
export interface AccessRecord {
  readonly method: string;
  /** The path without the query; null when the request target could not be read. */
  readonly path: string | null;
  /** The route's name (serve) or path pattern (fleet); 'unknown' where none matched. */
  readonly route: string;
  readonly status: number;
  readonly ms: number;
}

/** The record of a finished request; `t0Ms` from performance.now() when it arrived. */
export function accessRecord(method: string, path: string | null, route: string, status: number, t0Ms: number): AccessRecord {
  return { method, path, route, status, ms: Number((performance.now() - t0Ms).toFixed(2)) };
}

/** The access line as `--access-log` writes it with `--log-format text` (one JSON object, as before pino). */
export function accessLine(record: AccessRecord, now: Date = new Date()): string {
  return JSON.stringify({ type: 'access', time: now.toISOString(), method: record.method, path: record.path, route: record.route, status: record.status, ms: record.ms });
}
