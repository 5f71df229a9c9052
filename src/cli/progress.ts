/** A one-line progress bar on a terminal (nothing when not attached to one). */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

export function createProgress(label: string, total: number, write: (text: string) => void, enabled: boolean): Progress {
  let last = -1;
  const width = 30;
  return {
    update(done) {
      if (!enabled) return;
      const pct = Math.floor((100 * done) / Math.max(1, total));
      if (pct === last) return;
      last = pct;
      const filled = Math.round((width * done) / Math.max(1, total));
      write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    finish() {
      if (enabled) write('\r\x1b[2K');
    },
  };
}
