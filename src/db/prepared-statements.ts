import crypto from 'node:crypto';

/** Statements named so far, and texts seen once: both bounded, so ever new statement texts cannot grow memory. */
const SEEN_ONCE_LIMIT = 1000;
/** Statements with more parameters than this are not named. */
const MAX_PARAMETERS = 16;

/** Which name a statement text runs under (undefined: unnamed), and whether a text is named now. */
export type StatementNames = ((query: { sql: string; args?: readonly unknown[] }) => string | undefined) & {
  isNamed(sql: string): boolean;
};

/**
 * Names statements for PostgreSQL to keep prepared on each connection: parsed and planned once instead of on
 * every execution, which for a read of a list and the lists below it (src/common/pagination/tree.ts) cost more than
 * running it. A text is named the second time it is seen (unless it carries more than 16 parameters, as a list of
 * ids does, whose text changes with the list's length), and at most `limit` texts are, process-wide: each named
 * text costs every pooled connection a prepared statement, so a client sending ever new query shapes gets the
 * rest unnamed (parsed each time, as before) instead of growing them. 0 names none.
 *
 * With `evict` (one connection that can close what it prepared: the embedded database), a text seen twice when
 * `limit` are named takes the name slot of the one used longest ago, and `evict` is told its text.
 */
export function preparedStatementNames(limit: number, evict?: (sql: string) => void): StatementNames {
  const named = new Map<string, string>();
  let seenOnce = new Set<string>();
  const nameOf = ({ sql, args }: { sql: string; args?: readonly unknown[] }) => {
    const name = named.get(sql);
    if (name !== undefined) {
      if (evict) {
        // Most recently used last: the first entry is the one to evict.
        named.delete(sql);
        named.set(sql, name);
      }
      return name;
    }
    if (limit === 0) return undefined;
    // A statement with a list of ids or parents has a text per list length: it would take the slots of those that repeat.
    if ((args?.length ?? 0) > MAX_PARAMETERS) return undefined;
    if (!seenOnce.has(sql)) {
      if (seenOnce.size >= SEEN_ONCE_LIMIT) seenOnce = new Set();
      seenOnce.add(sql);
      return undefined;
    }
    if (named.size >= limit) {
      if (!evict) return undefined;
      const oldest = named.keys().next().value as string;
      named.delete(oldest);
      evict(oldest);
    }
    const made = `vigil_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    named.set(sql, made);
    seenOnce.delete(sql);
    return made;
  };
  return Object.assign(nameOf, { isNamed: (sql: string) => named.has(sql) });
}
