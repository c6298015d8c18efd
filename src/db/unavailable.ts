// Failures that say the database could not be reached or dropped the connection (a restart, a
// failover, a network blip), as opposed to a statement it refused: worth retrying the same work.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const SAID =
  /Can't reach database server|57P0[123]|terminating connection|Connection terminated|server closed the connection|ECONNREFUSED|ECONNRESET/;

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && (PRISMA_CODES.has(e.code) || /^(57P0[123]|08\d{3})$/.test(e.code))) return true;
  return typeof e?.message === 'string' && SAID.test(e.message);
}
