/**
 * `enose monitor`: what a rig sends, live, with no model: frames, issues, gaps, acks and link states, as
 * readable lines or one flat JSON object a line. SIGINT/SIGTERM (ctx.signal) stop it cleanly.
 */
import { EnoseError } from '../errors.js';
import type { SourceEvent } from '../types.js';
import { defineCommand, numberOption, parseCommand, stringOption, type Command } from './args.js';
import type { OptionTable } from './options.js';
import { SERIAL_OPTIONS, serialSourceFromArgs } from './serialOptions.js';

/** `enose monitor`'s options, declared once (options.ts): the parser's and the help's. */
export const MONITOR_OPTIONS = {
  json: {
    type: 'boolean',
    description:
      "one flat JSON object a line, with a type: info | frame {seq,tMs,phase,values} | issue {kind,line,detail} | gap {fromSeq,toSeq,lost} | state {state,detail} | ack {command,ok,detail} | reboot; atMs is the host's arrival time (ms); nan is null",
  },
  start: { type: 'string', value: 'sample-id', description: 'send START for this sample once the rig has identified itself' },
  frames: { type: 'string', value: 'n', description: 'stop after n frames' },
  ...SERIAL_OPTIONS,
} as const satisfies OptionTable;

/** One source event as one flat JSON line (NaN and typed arrays as JSON can hold them). */
export function sourceEventToJson(event: SourceEvent): string {
  return JSON.stringify(event, (_key, value: unknown) => (value instanceof Float64Array ? Array.from(value, (x) => (Number.isFinite(x) ? x : null)) : value));
}

/** A reading for the screen: six significant digits, exponent form beyond them. */
function displayValue(x: number): string {
  if (!Number.isFinite(x)) return 'nan';
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(4) : String(Number(x.toPrecision(6)));
}

/** One source event as a readable line. */
export function sourceEventToText(event: SourceEvent): string {
  switch (event.type) {
    case 'frame': {
      let values = '';
      for (let i = 0; i < event.values.length; i++) values += ` ${displayValue(event.values[i])}`;
      return `frame  ${event.seq} t=${(event.tMs / 1000).toFixed(3)}s ${event.phase} ${values.trimStart()}`;
    }
    case 'info':
      return `info   rig ${event.rig} fw ${event.fw} ${event.proto} ${event.rateHz} Hz ${event.unit}, ${event.channels.length} channels: ${event.channels.join(' ')}`;
    case 'issue':
      return `issue  ${event.kind}${event.count === undefined ? '' : ` x${event.count}`}: ${event.detail} | ${event.line}`;
    case 'gap':
      return `gap    seq ${event.fromSeq}..${event.toSeq}: ${event.lost} frame${event.lost === 1 ? '' : 's'} lost`;
    case 'state':
      return `state  ${event.state}${event.detail ? `: ${event.detail}` : ''}`;
    case 'ack':
      return `ack    ${event.command} ${event.ok ? 'OK' : 'ERR'}${event.detail ? ` ${event.detail}` : ''}`;
    case 'reboot':
      return 'reboot the rig restarted (a new info line follows)';
  }
}

export const monitorCommand: Command = defineCommand({
  name: 'monitor',
  summary: 'print what a serial rig sends, live (frames, issues, gaps, link states)',
  usage: `enose monitor --port <path|auto> [--baud 115200] [--protocol enl|csv] [--json]
                     [--start <sample-id>] [--frames <n>]`,
  about: `Prints what the rig sends, as it arrives: its info line, frames (seq, rig time, phase, values), rejected
lines (issue kind and the line, shortened), gaps in the seq, command acknowledgements and link states
(connected, disconnected, reconnecting). A rig that is unplugged is waited for and reopened; Ctrl-C stops.`,
  options: MONITOR_OPTIONS,
  async run(argv, ctx) {
    const parsed = parseCommand('monitor', argv, MONITOR_OPTIONS);
    if (parsed.positionals.length > 0) throw new EnoseError('bad-usage', `unexpected argument "${parsed.positionals[0]}" (see enose monitor --help)`);
    const json = parsed.values['json'] === true;
    const maxFrames = numberOption('monitor', parsed, 'frames', { integer: true, min: 1 });
    const startId = stringOption(parsed, 'start');
    const source = await serialSourceFromArgs('monitor', parsed, ctx);
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (ctx.signal.aborted) stop.abort();
    let frames = 0;
    let started = startId === undefined;
    const print = json ? (e: SourceEvent) => ctx.stdout(`${sourceEventToJson(e)}\n`) : (e: SourceEvent) => ctx.stdout(`${sourceEventToText(e)}\n`);
    const startSample = (): void => {
      started = true;
      source.send({ command: 'START', sampleId: startId! }).catch((error: unknown) => {
        ctx.stderr(`enose monitor: START not sent: ${error instanceof Error ? error.message : String(error)}\n`);
      });
    };
    try {
      await source.run((event) => {
        if (stop.signal.aborted) return;
        print(event);
        if (!started && (event.type === 'info' || (event.type === 'state' && event.state === 'connected' && source.protocol === 'csv'))) startSample();
        if (event.type === 'frame' && maxFrames !== undefined && ++frames >= maxFrames) stop.abort();
      }, stop.signal);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return 0;
  },
});
