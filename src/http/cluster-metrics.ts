import { randomUUID } from 'node:crypto';
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'tessera:metrics-request';
const REPLY = 'tessera:metrics-reply';

interface Reply {
  type: typeof REPLY;
  id: string;
  body?: string;
  error?: string;
}

/**
 * In the primary of `TESSERA_WORKERS`: answers a worker's scrape with every worker's metrics,
 * summed by prom-client's `AggregatorRegistry`, so one scrape of the port covers them all.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== REQUEST || typeof message.id !== 'string') return;
    const { id } = message;
    aggregator.clusterMetrics().then(
      (body) => worker.send({ type: REPLY, id, body } satisfies Reply),
      (error: Error) => worker.send({ type: REPLY, id, error: error.message } satisfies Reply),
    );
  });
}

/** In a worker: the scrape of every worker, asked of the primary. */
export function workerMetrics(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  // An AggregatorRegistry in the worker makes prom-client answer the primary's requests, with
  // this registry's metrics.
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
  const waiting = new Map<string, { resolve: (body: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: Partial<Reply>) => {
    if (message?.type !== REPLY || typeof message.id !== 'string') return;
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (typeof message.body === 'string') pending.resolve(message.body);
    else pending.reject(new Error(message.error ?? 'no metrics from the primary'));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary did not answer the metrics request'));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (body) => {
          clearTimeout(timer);
          resolve(body);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send!({ type: REQUEST, id });
    });
}
