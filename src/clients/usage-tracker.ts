import type { ClientStore } from '../stores/client-store.js';

/**
 * Keeps `last_used_at` current without a store write per token request: uses are noted in
 * memory and written in one pass every `intervalMs` (and on close). The store only ever moves
 * the value forward, so several processes flushing in any order agree.
 */
export function createUsageTracker(deps: {
  clientStore: ClientStore;
  intervalMs?: number;
  onError?: (error: unknown) => void;
}) {
  /** Client id → when it was last used (epoch ms; turned into a timestamp only when written). */
  const pending = new Map<string, number>();
  const flush = async (): Promise<void> => {
    const batch = [...pending];
    pending.clear();
    for (const [clientId, at] of batch) {
      try {
        await deps.clientStore.touchClient(clientId, new Date(at).toISOString());
      } catch (error) {
        deps.onError?.(error);
      }
    }
  };
  const timer = setInterval(() => void flush(), deps.intervalMs ?? 30_000);
  timer.unref();
  return {
    touch(clientId: string): void {
      pending.set(clientId, Date.now());
    },
    flush,
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}
