import { type Connection } from './connection.type';
import { type Ordering, type PageRequest, toConnection } from './keyset';

/** Loads rows by id and returns them in the order asked, null where missing (DataLoader's contract). */
export async function rowsByIds<T extends { id: string }>(
  ids: readonly string[],
  find: (ids: string[]) => Promise<T[]>,
): Promise<(T | null)[]> {
  const rows = await find([...new Set(ids)]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** One connection per parent from nestedPages' rows. */
export function connectionsFor<T extends Record<string, unknown>>(
  rowsByParent: Map<string, T[]>,
  req: PageRequest,
  ordering: Ordering,
  count: (parentId: string) => Promise<number>,
): Connection<T>[] {
  return [...rowsByParent.entries()].map(([parentId, rows]) => toConnection(rows, req, ordering, () => count(parentId)));
}
