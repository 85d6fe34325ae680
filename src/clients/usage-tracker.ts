import type { ClientStore, UsageCount } from '../stores/client-store.js';

/** A secret's `last_used_at` is written at most this often, and may lag by as much. */
export const SECRET_TOUCH_INTERVAL_MS = 60_000;

/** How long hourly usage is kept (contract section 8 asks for at least 7 days). */
export const USAGE_KEPT_HOURS = 8 * 24;

const HOUR_MS = 3_600_000;

/** The start of the clock hour of `at` (epoch ms), ISO 8601. */
export const hourOf = (at: number): string => new Date(Math.floor(at / HOUR_MS) * HOUR_MS).toISOString();

/**
 * Keeps `last_used_at` and the hourly usage counts current without a store write per token
 * request: uses are noted in memory and written in one pass every `intervalMs` (and on close).
 * `last_used_at` only ever moves forward and counts are added, so several processes flushing in
 * any order agree. Counts whose write fails are kept for the next pass: none is lost.
 */
export function createUsageTracker(deps: {
  clientStore: ClientStore;
  intervalMs?: number;
  onError?: (error: unknown) => void;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  /** Client id → when it was last used (epoch ms; turned into a timestamp only when written). */
  const touched = new Map<string, number>();
  /** Client id and secret id → when that secret last authenticated it (epoch ms). */
  const secretsUsed = new Map<string, { clientId: string; secretId: string; at: number }>();
  /** Client id → hour → counts not yet written. */
  const counts = new Map<string, Map<string, UsageCount>>();

  const countFor = (clientId: string, hour: string): UsageCount => {
    let hours = counts.get(clientId);
    if (!hours) counts.set(clientId, (hours = new Map()));
    let count = hours.get(hour);
    if (!count) hours.set(hour, (count = { hour, tokens_issued: 0, auth_failures: 0 }));
    return count;
  };

  const flush = async (): Promise<void> => {
    const uses = [...touched];
    touched.clear();
    for (const [clientId, at] of uses) {
      try {
        await deps.clientStore.touchClient(clientId, new Date(at).toISOString());
      } catch (error) {
        deps.onError?.(error);
      }
    }
    const secretUses = [...secretsUsed.values()];
    secretsUsed.clear();
    for (const use of secretUses) {
      try {
        const at = new Date(use.at).toISOString();
        await deps.clientStore.touchClientSecret(use.clientId, use.secretId, at, SECRET_TOUCH_INTERVAL_MS);
      } catch (error) {
        deps.onError?.(error);
      }
    }
    const batch = [...counts];
    counts.clear();
    const keepFrom = hourOf(now() - USAGE_KEPT_HOURS * HOUR_MS);
    for (const [clientId, hours] of batch) {
      try {
        await deps.clientStore.addUsage(clientId, [...hours.values()], keepFrom);
      } catch (error) {
        deps.onError?.(error);
        for (const count of hours.values()) {
          const kept = countFor(clientId, count.hour);
          kept.tokens_issued += count.tokens_issued;
          kept.auth_failures += count.auth_failures;
        }
      }
    }
  };
  // The hour's name is made once per hour, not per token.
  let named = { hour: NaN, name: '' };
  const currentHour = (at: number): string => {
    const hour = Math.floor(at / HOUR_MS);
    if (hour !== named.hour) named = { hour, name: hourOf(at) };
    return named.name;
  };
  const timer = setInterval(() => void flush(), deps.intervalMs ?? 30_000);
  timer.unref();
  return {
    /** A token was issued to the client: it was used now. */
    tokenIssued(clientId: string): void {
      touched.set(clientId, now());
      countFor(clientId, currentHour(now())).tokens_issued += 1;
    },
    /** One of the client's secrets authenticated it. */
    secretUsed(clientId: string, secretId: string): void {
      secretsUsed.set(`${clientId}\n${secretId}`, { clientId, secretId, at: now() });
    },
    /** The client failed to authenticate. */
    authFailed(clientId: string): void {
      countFor(clientId, currentHour(now())).auth_failures += 1;
    },
    /** This process's counts for the client that are not written yet. */
    unwritten(clientId: string): UsageCount[] {
      return [...(counts.get(clientId)?.values() ?? [])].map((count) => ({ ...count }));
    },
    now,
    flush,
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

export type UsageTracker = ReturnType<typeof createUsageTracker>;
