import { Prisma } from '../generated/prisma/client';

/** True when a write lost to a unique key (a duplicate, or a concurrent twin of this request). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/** True when the row to update or delete was not there. */
export function isRecordNotFound(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025';
}
