/**
 * Server-sent events: the text format (https://html.spec.whatwg.org/multipage/server-sent-events.html) and the
 * thinning of frame events for a browser. Pure.
 *
 * Each engine event goes out as `event: <type>` plus `data: <the event's JSON line>`, the same JSON as the CLI's
 * `--json` output. The service adds its own event types: `snapshot` (first, on connect), `sample-requested`,
 * `sample-failed` and `pca-point` (a cycle's PCA scores, the verdict's `pcaScores`, just after its verdict).
 */

/** One SSE message. `data` must be one line (JSON from JSON.stringify or eventToJson is). */
export function sseMessage(type: string, data: string): string {
  return `event: ${type}\ndata: ${data}\n\n`;
}

/** A comment line: keeps proxies and the browser from closing an idle stream. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

/**
 * Passes at most `maxHz` frames a second (by the frames' arrival times); `Infinity` passes all, 0 none.
 * A browser draws a few dozen frames a second at most, while a replay at full speed sends thousands.
 */
export class FrameThinner {
  private last = -Infinity;
  private readonly stepMs: number;

  constructor(maxHz: number) {
    this.stepMs = maxHz === Infinity ? 0 : maxHz > 0 ? 1000 / maxHz : Infinity;
  }

  accept(atMs: number): boolean {
    if (this.stepMs === Infinity) return false;
    if (atMs - this.last < this.stepMs) return false;
    this.last = atMs;
    return true;
  }
}

/**
 * The `frames` query parameter of `/v1/events`: `all`, `none`, or a rate in Hz (0 < rate <= 1000). Null for
 * anything else.
 */
export function parseFrameRate(raw: string | null, fallbackHz: number): number | null {
  if (raw === null || raw === '') return fallbackHz;
  if (raw === 'all') return Infinity;
  if (raw === 'none') return 0;
  if (!/^\d+(\.\d+)?$/.test(raw)) return null;
  const hz = Number(raw);
  return hz > 0 && hz <= 1000 ? hz : null;
}

/** Retry-After of a 503 past the cap on event streams, seconds. */
export const SSE_RETRY_AFTER_S = 5;

/**
 * The answer to a stream past the cap (serve's and the fleet centre's): 503 with Retry-After, and
 * `Connection: close`, so that a refused client's socket (and its parser) goes with the answer and a flood of
 * keep-alive clients cannot hold idle sockets past the cap.
 */
export function refusedStream(open: number): { readonly status: 503; readonly headers: Readonly<Record<string, string>>; readonly body: string } {
  return {
    status: 503,
    headers: { 'retry-after': String(SSE_RETRY_AFTER_S), connection: 'close' },
    body: JSON.stringify({ error: `too many event streams open (${open}): try again later` }),
  };
}
