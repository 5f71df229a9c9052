/** Small operations on an open serial port: why an open failed, a hung-up device, a write that waits for the OS, a sleep. */
import { writeSync } from 'node:fs';
import type { SerialPortLike } from './serialSourceOptions.js';

/** One line saying why an open failed, from serialport's messages ("Error: No such file or directory, cannot open ..."). */
export function describePortError(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const text = raw.split('\n')[0].replace(/^Error:?\s*/, '').trim();
  if (/no such file|ENOENT|does not exist/i.test(text)) return 'no such device';
  if (/cannot lock|locked|resource temporarily unavailable|EBUSY|busy/i.test(text)) return 'port is busy (another program has it open)';
  if (/permission denied|EACCES/i.test(text)) return 'permission denied (add the user to the dialout group: see hardware/README.md)';
  return text || 'unknown error';
}

const NO_BYTES = Buffer.alloc(0);

/**
 * True when the port's device has hung up: a zero-byte write, a no-op on a live tty, fails with EIO on one
 * whose other end went away. Needed because after a hang-up the poller that serialport's pending read waits
 * on is not always woken (seen on Linux ptys when socat dies: no 'close', no 'end', for ever), while a read
 * would return 0 and a write EIO. Ports without a file descriptor (mocks, Windows) are never hung up here.
 */
export function isHungUp(port: SerialPortLike): boolean {
  const fd = (port.port as { readonly fd?: unknown } | null | undefined)?.fd;
  if (typeof fd !== 'number' || fd < 0) return false;
  try {
    writeSync(fd, NO_BYTES, 0, 0);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EIO' || code === 'ENXIO' || code === 'ENODEV';
  }
}

/**
 * Writes and then waits for the OS to transmit (tcdrain). The write's own callback decides success: a drain
 * that fails afterwards (the port closed meanwhile) does not unsend what the OS already took.
 */
export function writeAndDrain(port: SerialPortLike, data: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    port.write(data, (error) => {
      if (error) reject(error);
      else if (!port.isOpen) resolve();
      else port.drain(() => resolve());
    });
  });
}

/** Sleeps; resolves false when the signal aborted first. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
