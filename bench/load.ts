/**
 * The load generator: autocannon in its own process (pinned to its own core by the runner), so
 * it never competes with the subject for CPU. Reads a {@link LoadSpec} as JSON from argv[2] and
 * prints a {@link LoadResult} as JSON.
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './shared.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const result = await autocannon({
  url: spec.url,
  method: spec.method,
  headers: spec.headers,
  ...(spec.body === undefined ? {} : { body: spec.body }),
  connections: spec.connections,
  duration: spec.durationSeconds,
});
const out: LoadResult = {
  requestsPerSecond: result.requests.total / spec.durationSeconds,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  total: result.requests.total,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
