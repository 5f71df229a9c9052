/**
 * ENL/1, the rig's line protocol: a pure codec (no timers, no I/O; the caller passes the time as `nowMs`).
 * The protocol itself is described in hardware/PROTOCOL.md. This module is the codec's one door; each
 * concept lives in its own file under `codec/` (CRC, encoders, number scanner, line splitter, line parser,
 * streaming decoder, csv mode).
 *
 * API at a glance
 * - `createDecoder(options?)` -> {@link Enl1Decoder}, streaming and stateful, one per link:
 *   - `push(chunk, nowMs)`: bytes (a Buffer/Uint8Array, or a string read as latin1) as they come off the
 *     wire; returns the outputs of every line this chunk completes, in order ({@link DecoderOutput}:
 *     `info`, `reboot`, `frame`, `gap`, `ack`, `command`, `need-info`, `issue`). A partial line waits for
 *     the next chunk; memory stays bounded whatever arrives.
 *   - `poll(nowMs)`: call from a timer (e.g. every 250 ms) so that frames held back for lack of an info
 *     line time out as `no-info` even when no bytes arrive.
 *   - `infoRequested(nowMs)`: say that the host sent INFO, so that the identical info line answering it is
 *     not read as a reboot.
 *   - `end(nowMs)`: end of stream: decodes a last line without '\n' and times out everything held.
 *   - `reset()`: after a reconnect: forgets the info, the sequence and any partial line (counters stay).
 *   - `info`, `needsInfo`, `pendingBytes`, `counters()`.
 * - `decodeLine(line, { channelCount? })`: one line, stateless: `{ ok: true, message }` or `{ ok: false, issue }`.
 * - Encoders, each returning the complete line with checksum and '\n': `encodeCommand` (START, STOP, INFO, END), `encodeInfo`,
 *   `encodeFrame`, `encodeAck`, and `encodeLine(body)` for anything else (fault injection).
 * - `crc16CcittFalse(bytes, start, end)`.
 * - `createCsvDecoder(options?)`: the plain `--protocol csv` mode for do-it-yourself rigs (values only; the
 *   host's clock assigns phases elsewhere).
 *
 * Outputs of `push` are fresh objects the caller may keep. A frame's `values` overlaps no other frame's, but
 * for speed it is a view on an 8 KiB buffer shared by consecutive frames (64 frames of 16 channels; at least
 * 8 frames when lines are longer): `values.slice()` it if you keep single frames for a long time and drop
 * their neighbours (each kept view holds its 8 KiB otherwise).
 *
 * Decisions the protocol text leaves open (also in hardware/PROTOCOL.md):
 * - Empty lines are skipped silently; the 4096-byte limit counts every byte of the line except the '\n'
 *   and one '\r' before it, including bytes before the '$'.
 * - The checksum field is what follows the LAST '*' of the line.
 * - A frame older than the last accepted one (serial-number arithmetic on uint32, RFC 1982: 2^31 or more
 *   behind) is `repeated-seq`, like the same seq again, and is dropped. When 3 such frames in a row count
 *   up by one, the rig may have restarted without an info line the host could read: the decoder emits
 *   `need-info` and holds the run from its third frame. A frame continuing the old sequence makes the run
 *   stale (its held frames `repeated-seq`); an unrequested info line is a reboot as always; and 3 more frames
 *   of the run after the info line that answered the INFO make it a restart (`reboot`, `info`, the frames).
 * - Info lines are bounded (INFO_LIMITS): rate_hz from 0.001 to 1000, at most 256 channels, names, rig and fw
 *   at most 64 characters. A line beyond them is `malformed` and the last info line stays.
 * - Every info line after the first is a reboot (`reboot` then `info`; seq may restart anywhere), except
 *   the identical line answering an INFO the caller announced with `infoRequested` within the hold time.
 * - `gap` names the lost seqs themselves: after 3, frame 12 gives `{ fromSeq: 4, toSeq: 11, lost: 8 }`;
 *   it comes just before the frame that revealed it.
 * - `need-info` is emitted when a frame is held back and no request was made in the last `holdBackMs`, so
 *   the caller sends INFO at most once per hold time.
 */

export type { RigCommand, RigInfo } from '../types.js';
export { crc16CcittFalse } from './codec/crc.js';
export { INFO_LIMITS, ISSUE_KINDS, MAX_END_REASON_CHARS, MAX_LINE_BYTES, MAX_SAMPLE_ID_CHARS, PROTOCOL_NAME, type Ack, type IssueKind, type LineIssue, type LineResult, type Message } from './codec/enl1.js';
export { encodeAck, encodeCommand, encodeFrame, encodeInfo, encodeLine, formatValue } from './codec/encode.js';
export { decodeLine, unknownCommandWord } from './codec/lineParser.js';
export {
  createDecoder,
  DEFAULT_HOLD_BACK_MS,
  RESTART_CONFIRM_FRAMES,
  RESTART_RUN_FRAMES,
  type DecoderCounters,
  type DecoderOptions,
  type DecoderOutput,
  type Enl1Decoder,
} from './codec/decoder.js';
export { createCsvDecoder, type CsvCounters, type CsvDecoder, type CsvDecoderOptions, type CsvIssueKind, type CsvOutput } from './codec/csv.js';
