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

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  // Asynchronous: under load, lines written while one write is in flight go out together. pino
  // flushes what is left when the process exits.
  const sink = destination ?? pino.destination({ dest: 1, sync: false });
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
  const text = JSON.stringify;
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
