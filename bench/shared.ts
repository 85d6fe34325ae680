/** The client every subject of the benchmark knows. */
export const BENCH_CLIENT = {
  clientId: 'bench-client',
  secret: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz',
  scope: 'api:read',
} as const;

/** The resource server every subject knows, with JWT access tokens. */
export const BENCH_RESOURCE = 'https://bench.example/api';

export const basicAuth = (clientId: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** What the load generator is asked to do (passed as JSON on its command line). */
export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
}

/** What it reports. */
export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}
