/** Helpers every store implementation shares, so listings and names behave the same on each. */

/** Lower-cased key that makes names and usernames unique regardless of case. */
export const nameKey = (name: string): string => name.normalize('NFC').toLowerCase();

/** Opaque newest-first cursor: the sort key of the last row of a page. */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

/** Decodes a cursor; a malformed one yields undefined (callers treat it as a bad request). */
export function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) {
      return value as [string, string];
    }
  } catch {
    // fall through
  }
  return undefined;
}
