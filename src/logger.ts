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

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  // Synchronous writes of one whole line each: a stalled reader of stdout slows Tessera down
  // instead of piling lines up in its memory, and workers sharing one stdout pipe never
  // interleave lines (a write of up to PIPE_BUF bytes is atomic).
  const sink = destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level,
      // Under TESSERA_WORKERS, every line says which worker wrote it.
      base: cluster.worker ? { service: 'tessera', worker: cluster.worker.id } : { service: 'tessera' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    sink,
  );
}
