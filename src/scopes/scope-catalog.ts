import { z } from 'zod';

/** RFC 6749 3.3 scope token characters, without `*` (which `implies` uses as its wildcard). */
const SCOPE_NAME = /^[\x21\x23-\x29\x2B-\x5B\x5D-\x7E]+$/;

/** One scope of the deployment, as the console and the consent page describe it. */
export interface ScopeEntry {
  readonly name: string;
  readonly description: string;
}

/**
 * The scopes a deployment offers and how they imply each other. Everything is computed once at
 * start: expanding a request is a lookup per scope and a sort, never a graph walk.
 */
export interface ScopeCatalog {
  /** Every scope offered: the built-in ones, then the deployment's own, in catalog order. */
  readonly names: readonly string[];
  readonly entries: readonly ScopeEntry[];
  /** Whether any scope implies another (else expanding changes nothing). */
  readonly hasImplications: boolean;
  describe(scope: string): string;
  /**
   * The given scopes and every scope they imply, each once, in catalog order; scopes the
   * catalog does not know stay, after the known ones, so callers can still refuse them.
   */
  expand(scopes: Iterable<string>): string[];
}

/** Why a catalog cannot be used; the message names the scope or the field. */
export class ScopeCatalogError extends Error {
  override name = 'ScopeCatalogError';
}

const entrySchema = z.strictObject({
  name: z.string().regex(SCOPE_NAME, 'must be a scope token (printable ASCII without space, ", \\ or *)'),
  description: z.string().trim().min(1).max(200).optional(),
  implies: z.array(z.string().min(1).max(200)).max(500).optional(),
});
const fileSchema = z.strictObject({ scopes: z.array(entrySchema).min(1).max(1000) });

export type CatalogFile = z.infer<typeof fileSchema>;

const GENERIC_DESCRIPTION = 'An API scope of this deployment';

/** Reads a catalog document (the parsed JSON of `TESSERA_SCOPES_FILE`), or explains the first problem. */
export function parseCatalogFile(document: unknown): CatalogFile {
  const result = fileSchema.safeParse(document);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const [, index, field] = issue.path;
  const scopes = (document as { scopes?: unknown[] } | null)?.scopes;
  const named =
    typeof index === 'number' ? (scopes?.[index] as { name?: unknown } | undefined)?.name : undefined;
  const where =
    typeof named === 'string' && field !== 'name'
      ? `scope "${named}"${field === undefined ? '' : `, ${String(field)}`}`
      : issue.path.length
        ? issue.path.join('.')
        : 'the file';
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
      : issue.message;
  throw new ScopeCatalogError(`${where}: ${message}`);
}

/**
 * Builds the catalog: the built-in scopes (which imply nothing), then the deployment's own.
 * Refuses built-in names, duplicates, unknown or unmatched `implies` and cycles.
 */
export function buildScopeCatalog(builtins: readonly ScopeEntry[], own: CatalogFile['scopes']): ScopeCatalog {
  const builtinNames = new Set(builtins.map((entry) => entry.name));
  const ownNames: string[] = [];
  for (const entry of own) {
    if (builtinNames.has(entry.name)) {
      throw new ScopeCatalogError(`scope "${entry.name}" is a built-in scope and cannot be redefined`);
    }
    if (ownNames.includes(entry.name)) throw new ScopeCatalogError(`scope "${entry.name}" is declared twice`);
    ownNames.push(entry.name);
  }

  // `implies` resolved to catalog names: `prefix:*` is every other catalog scope with that prefix.
  const edges = new Map<string, string[]>();
  for (const entry of own) {
    const targets = new Set<string>();
    for (const implied of entry.implies ?? []) {
      if (implied.endsWith('*')) {
        const prefix = implied.slice(0, -1);
        if (!prefix.endsWith(':') || prefix.includes('*')) {
          throw new ScopeCatalogError(
            `scope "${entry.name}": implies "${implied}": a wildcard is a prefix ending in ":" followed by "*"`,
          );
        }
        const matches = ownNames.filter((name) => name.startsWith(prefix) && name !== entry.name);
        if (matches.length === 0) {
          throw new ScopeCatalogError(
            `scope "${entry.name}": implies "${implied}", which matches no catalog scope`,
          );
        }
        matches.forEach((name) => targets.add(name));
      } else if (builtinNames.has(implied)) {
        throw new ScopeCatalogError(`scope "${entry.name}": implies "${implied}", a built-in scope`);
      } else if (!ownNames.includes(implied)) {
        throw new ScopeCatalogError(`scope "${entry.name}": implies unknown scope "${implied}"`);
      } else if (implied === entry.name) {
        throw new ScopeCatalogError(`scope "${entry.name}": implies itself`);
      } else {
        targets.add(implied);
      }
    }
    edges.set(entry.name, [...targets]);
  }

  // Depth-first closure; a scope met again while still open is a cycle.
  const closures = new Map<string, Set<string>>();
  const open: string[] = [];
  const closureOf = (name: string): Set<string> => {
    const done = closures.get(name);
    if (done) return done;
    if (open.includes(name)) {
      const cycle = [...open.slice(open.indexOf(name)), name].join(' -> ');
      throw new ScopeCatalogError(`scope "${name}": implies itself through a cycle (${cycle})`);
    }
    open.push(name);
    const closure = new Set([name]);
    for (const target of edges.get(name) ?? []) closureOf(target).forEach((scope) => closure.add(scope));
    open.pop();
    closures.set(name, closure);
    return closure;
  };
  ownNames.forEach(closureOf);

  const entries: ScopeEntry[] = [
    ...builtins,
    ...own.map((entry) => ({ name: entry.name, description: entry.description ?? GENERIC_DESCRIPTION })),
  ];
  const names = entries.map((entry) => entry.name);
  const position = new Map(names.map((name, index) => [name, index]));
  const descriptions = new Map(entries.map((entry) => [entry.name, entry.description]));
  const implied = new Map(
    names.map((name) => {
      const closure = closures.get(name) ?? new Set([name]);
      return [name, [...closure].sort((a, b) => position.get(a)! - position.get(b)!)];
    }),
  );

  return {
    names,
    entries,
    hasImplications: [...edges.values()].some((targets) => targets.length > 0),
    describe: (scope) => descriptions.get(scope) ?? GENERIC_DESCRIPTION,
    expand(scopes) {
      const known = new Set<string>();
      const unknown = new Set<string>();
      for (const scope of scopes) {
        const closure = implied.get(scope);
        if (closure) closure.forEach((name) => known.add(name));
        else if (scope) unknown.add(scope);
      }
      return [...[...known].sort((a, b) => position.get(a)! - position.get(b)!), ...unknown];
    },
  };
}

/** Splits a space-separated scope string, dropping empty parts. */
export const scopeList = (scope: string | undefined | null): string[] =>
  (scope ?? '').split(' ').filter(Boolean);
