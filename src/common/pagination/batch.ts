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

/** Turns nestedPageIds' id lists into one connection per parent with a single fetch of the rows. */
export async function connectionsFor<T extends { id: string }>(
  idsByParent: Map<string, string[]>,
  req: PageRequest,
  ordering: Ordering,
  count: (parentId: string) => Promise<number>,
  find: (ids: string[]) => Promise<T[]>,
): Promise<Connection<T>[]> {
  const all = [...idsByParent.values()].flat();
  const rows = all.length ? await find(all) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return [...idsByParent.entries()].map(([parentId, ids]) =>
    toConnection(
      ids.map((id) => byId.get(id)).filter((r): r is T => r !== undefined),
      req,
      ordering,
      () => count(parentId),
    ),
  );
}
