/** The rig end of the emulator's pty: a non-blocking writer for frames, a serialport for the host's commands. */
import { closeSync, constants as fsConstants, openSync, writeSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { EnoseError } from '../errors.js';

/**
 * Writes straight to the rig end's file descriptor, opened non-blocking: the bytes are in the pty when
 * `write` returns (the time the --timing log records), with no thread-pool hop. What the pty cannot take
 * yet (nobody reading the host end) is queued and retried every millisecond, in order.
 */
export class FdWriter {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private drained: (() => void)[] = [];
  private fd: number | null;
  private stuck = 0;

  constructor(
    fd: number,
    private readonly onLost: () => void,
  ) {
    this.fd = fd;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Bytes waiting for room in the pty. */
  get writableLength(): number {
    return this.queued;
  }

  /** Writes or queues `data`; false when something is left queued (wait with `onceDrained`). */
  write(data: Buffer): boolean {
    if (this.fd === null) return false;
    if (this.queue.length === 0) {
      const n = this.tryWrite(data);
      if (n === data.length) return true;
      data = data.subarray(n);
    }
    this.queue.push(data);
    this.queued += data.length;
    this.schedule();
    return false;
  }

  onceDrained(callback: () => void): void {
    if (this.queued === 0 || this.fd === null) callback();
    else this.drained.push(callback);
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const fd = this.fd;
    this.fd = null;
    this.queue.length = 0;
    this.queued = 0;
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
    this.flushDrained();
  }

  /** Bytes written now (0 when the pty is full); a lost link closes the writer. */
  private tryWrite(data: Buffer): number {
    try {
      return writeSync(this.fd!, data, 0, data.length);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.close();
      this.onLost();
      return data.length;
    }
  }

  /** Retries back off from 1 to 32 ms while the pty takes nothing (a host end nobody reads). */
  private schedule(): void {
    if (this.timer === null) this.timer = setTimeout(() => this.pump(), Math.min(32, 2 ** this.stuck));
  }

  private pump(): void {
    this.timer = null;
    let progress = false;
    while (this.queue.length > 0 && this.fd !== null) {
      const head = this.queue[0];
      const n = this.tryWrite(head);
      this.queued -= n;
      if (n > 0) progress = true;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        this.stuck = progress ? 0 : this.stuck + 1;
        this.schedule();
        return;
      }
      this.queue.shift();
    }
    this.stuck = 0;
    this.flushDrained();
  }

  private flushDrained(): void {
    const callbacks = this.drained;
    this.drained = [];
    for (const cb of callbacks) cb();
  }
}

/** Resolves once every queued byte is in the pty, or after `timeoutMs` (a host that never reads never takes them). */
export function written(writer: FdWriter, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    writer.onceDrained(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The rig end of the pty: a serialport that only reads (commands) and a raw descriptor that only writes. */
export interface RigLink {
  readonly reader: SerialPort;
  readonly writer: FdWriter;
}

export function closeLink(link: RigLink): Promise<void> {
  link.writer.close();
  return new Promise<void>((resolve) => (link.reader.isOpen ? link.reader.close(() => resolve()) : resolve()));
}

/**
 * Opens the rig end twice: a serialport that only reads (the host's commands) and a raw non-blocking
 * descriptor that only writes (frames). Besides taking no thread-pool hop per write, this keeps writes
 * away from serialport 13's Linux poller, which arms one event mask per descriptor and lets each wait
 * replace it (bindings-cpp src/poller.cpp calls uv_poll_start with the new events only): a write waiting
 * for room (nobody reading the host end yet) and a read waiting for bytes on the same descriptor stalled
 * each other for good, seen as an emulator that stopped both writing frames and answering INFO.
 */
export async function openRigLink(path: string, onLost: (link: RigLink) => void): Promise<RigLink> {
  const reader = await new Promise<SerialPort>((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock: false, hupcl: false });
    port.on('error', () => undefined);
    port.open((error) => {
      if (error) reject(new EnoseError('port-error', `cannot open ${path}: ${error.message.replace(/^Error:?\s*/, '')}`));
      else resolve(port);
    });
  });
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
  } catch (error) {
    await new Promise<void>((resolve) => reader.close(() => resolve()));
    throw new EnoseError('port-error', `cannot open ${path}: ${(error as Error).message}`);
  }
  await new Promise<void>((resolve) => reader.flush(() => resolve()));
  let link: RigLink | null = null;
  const writer = new FdWriter(fd, () => {
    if (link !== null) onLost(link);
  });
  link = { reader, writer };
  return link;
}
