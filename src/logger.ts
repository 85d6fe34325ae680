import cluster from 'node:cluster';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Paths pino blanks out wherever they appear. Request logs never carry headers or bodies in the
 * first place; this is the second line of defence for anything logged with an error.
 */
const REDACT = [
  'password',
  'client_secret',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'code',
  'private_key_pem',
  'authorization',
  'cookie',
  '*.password',
  '*.client_secret',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.private_key_pem',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

let second = NaN;
let secondText = '';

/**
 * pino's `isoTime` (`,"time":"2026-01-02T03:04:05.678Z"`), with the date part formatted once per
 * second instead of on every line.
 */
export function isoTime(): string {
  const now = Date.now();
  const millis = now % 1000;
  if (now - millis !== second) {
    second = now - millis;
    secondText = new Date(second).toISOString().slice(0, 20);
  }
  return `,"time":"${secondText}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z"`;
}

/** A destination that can also hand over what it holds at once (pino's `flush`, exit). */
export interface FlushableDestination extends DestinationStream {
  flush(callback?: (error?: Error) => void): void;
  flushSync(): void;
}

/**
 * The most bytes one write may carry: on a pipe shared by several processes (workers writing to
 * the same stdout), a write up to this size is never interleaved with another's (POSIX
 * `PIPE_BUF`).
 */
export const ATOMIC_WRITE = 4096;

/**
 * Gathers the lines written during one turn of the event loop and hands them to `target` when
 * the turn's I/O callbacks are done (`setImmediate`), in the order they were written, as few
 * writes of whole lines of at most {@link ATOMIC_WRITE} bytes each (a longer line goes alone).
 * Under load one turn finishes many requests, whose lines then cost one system call instead of
 * one each; no line waits longer than that turn. `flush` and `flushSync` hand over what is
 * pending at once, so `logger.flush()` before an exit loses nothing.
 */
export function linesPerTurn(target: FlushableDestination): FlushableDestination {
  let pending: string[] = [];
  let pendingLength = 0;
  const handOver = () => {
    if (pending.length === 0) return;
    const lines = pending;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: most turns fit in one write unmeasured.
    const fits = pendingLength * 3 <= ATOMIC_WRITE;
    pending = [];
    pendingLength = 0;
    if (fits || lines.length === 1) {
      target.write(lines.length === 1 ? lines[0]! : lines.join(''));
      return;
    }
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (chunkBytes > 0 && chunkBytes + bytes > ATOMIC_WRITE) {
        target.write(chunk);
        chunk = '';
        chunkBytes = 0;
      }
      chunk += line;
      chunkBytes += bytes;
    }
    target.write(chunk);
  };
  return {
    write(line: string) {
      pendingLength += line.length;
      if (pending.push(line) === 1) setImmediate(handOver);
    },
    flush(callback) {
      handOver();
      target.flush(callback);
    },
    flushSync() {
      handOver();
      target.flushSync();
    },
  };
}

/** Standard output, written synchronously a turn's lines at a time (see {@link linesPerTurn}). */
function standardOutput(): FlushableDestination {
  const out = linesPerTurn(pino.destination({ dest: 1, sync: true }));
  // A process that ends without `logger.flush()` (an uncaught error, process.exit) still writes
  // the lines of its last turn.
  process.once('exit', () => {
    try {
      out.flushSync();
    } catch {
      // stdout is already gone: nothing left to write to
    }
  });
  return out;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  // Synchronous writes (pino's default): a stalled reader of stdout slows Tessera down instead
  // of piling lines up in its memory.
  const sink = destination ?? standardOutput();
  const options = {
    level,
    // Under TESSERA_WORKERS, every line says which worker wrote it.
    base: cluster.worker ? { service: 'tessera', worker: cluster.worker.id } : { service: 'tessera' },
    timestamp: isoTime,
  };
  return pino({ ...options, redact: { paths: REDACT, censor: '[redacted]' } }, sink);
}

/** The fields of a request's log line (see http/request-log.ts). */
export interface RequestLine {
  req_id: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  client_id: string | undefined;
  remote: string;
}

const { streamSym, timeSym, chindingsSym } = pino.symbols;

/** Distinct strings a request-line writer keeps in their JSON-quoted form. */
export const QUOTED_MEMO = 1024;
/** The longest string it keeps so. */
export const QUOTED_MEMO_LENGTH = 256;

/**
 * Writes request lines into `logger`'s destination exactly as `logger.info(line, 'request')`
 * would: level, time and bindings as the logger renders them, the fields, an undefined one left
 * out. Every field has a fixed type and none can hold a secret, so the line needs neither the
 * redaction pass nor pino's generic serializer, which together cost more than the rest of the
 * request log on the token endpoint.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[streamSym] as DestinationStream;
  const time = internals[timeSym] as () => string;
  const bindings = internals[chindingsSym] as string;
  const info = logger.levels.values['info']!;
  // Paths, client ids and addresses repeat from line to line: each is JSON-quoted once and the
  // quoted form reused. The memo is bounded in entries (emptied when full) and takes only short
  // strings, so made-up paths can neither grow it nor fill it with long ones.
  const quotedOnce = new Map<string, string>();
  const text = (value: string): string => {
    if (value.length > QUOTED_MEMO_LENGTH) return JSON.stringify(value);
    let quoted = quotedOnce.get(value);
    if (quoted === undefined) {
      quoted = JSON.stringify(value);
      if (quotedOnce.size >= QUOTED_MEMO) quotedOnce.clear();
      quotedOnce.set(value, quoted);
    }
    return quoted;
  };
  return (line) => {
    if (logger.levelVal > info) return;
    const client = line.client_id === undefined ? '' : `,"client_id":${text(line.client_id)}`;
    // The request id is a UUID or matched [A-Za-z0-9._-] (http/request-log.ts) and the method an
    // HTTP token (Node's parser accepts no other); everything else is escaped.
    stream.write(
      `{"level":${info}${time()}${bindings},"req_id":"${line.req_id}","method":"${line.method}",` +
        `"path":${text(line.path)},"status":${line.status},"duration_ms":${line.duration_ms}${client},` +
        `"remote":${text(line.remote)},"msg":"request"}\n`,
    );
  };
}
