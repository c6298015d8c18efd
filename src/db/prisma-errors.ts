import { Prisma } from '../generated/prisma/client';

/** True when a write lost to a unique key (a duplicate, or a concurrent twin of this request). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/** True when the row to update or delete was not there. */
export function isRecordNotFound(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025';
}

/**
 * Creates a row chosen by a client-supplied idempotency key: an earlier row with the key is
 * returned, and a concurrent retry that wins the race on the unique key is answered with its row.
 */
export async function createOnce<T>(
  key: string | null | undefined,
  existing: () => Promise<T | null>,
  create: () => Promise<T>,
): Promise<T> {
  if (key) {
    const earlier = await existing();
    if (earlier) return earlier;
  }
  try {
    return await create();
  } catch (err) {
    const winner = key && isUniqueViolation(err) ? await existing() : null;
    if (winner) return winner;
    throw err;
  }
}
