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

const requestLoggers = new WeakMap<Logger, Logger>();

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  // Asynchronous: under load, lines written while one write is in flight go out together. pino
  // flushes what is left when the process exits.
  const sink = destination ?? pino.destination({ dest: 1, sync: false });
  const options = {
    level,
    // Under TESSERA_WORKERS, every line says which worker wrote it.
    base: cluster.worker ? { service: 'tessera', worker: cluster.worker.id } : { service: 'tessera' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const logger = pino({ ...options, redact: { paths: REDACT, censor: '[redacted]' } }, sink);
  // Request lines have a fixed shape of safe fields (see http/request-log.ts), so they skip the
  // redaction pass, which costs more than the rest of the line on the token endpoint.
  requestLoggers.set(logger, pino(options, sink));
  return logger;
}

/** The sibling of `logger` for per-request lines: same destination and level, no redaction. */
export function requestLoggerOf(logger: Logger): Logger {
  return requestLoggers.get(logger) ?? logger;
}
