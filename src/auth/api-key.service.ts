import crypto from 'node:crypto';
import { type ApiKey, type PrismaClient } from '../generated/prisma/client';
import { badInput, conflict, notFound, unauthenticated } from '../common/errors';
import { type Connection } from '../common/pagination/connection.type';
import { byId, type Ordering, type PageLimits, paginate, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { type Caller } from './caller';
import { Role } from './roles';

const SECRET_PREFIX = 'vgl_';
const ORDER: Ordering = listOrdering('ApiKey', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);
// Writing last_used_at on every request would make every read a write.
const LAST_USED_RESOLUTION_MS = 60_000;

export const hashSecret = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');

export class ApiKeyService {
  private readonly cache = new Map<string, { caller: Caller | null; until: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: { cacheMs: number; limits: PageLimits },
  ) {}

  /** The caller a bearer secret stands for; unknown and revoked keys are refused. */
  async authenticate(secret: string): Promise<Caller> {
    const hash = hashSecret(secret);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until < now) {
      const key = await this.prisma.apiKey.findUnique({ where: { secretHash: hash } });
      const caller = key && !key.revokedAt ? { apiKeyId: key.id, name: key.name, role: key.role } : null;
      entry = { caller, until: now + this.options.cacheMs };
      if (this.options.cacheMs > 0) this.cache.set(hash, entry);
    }
    if (!entry.caller) throw unauthenticated('unknown or revoked API key');
    this.markUsed(entry.caller.apiKeyId, now);
    return entry.caller;
  }

  private markUsed(id: string, now: number) {
    if ((this.touched.get(id) ?? 0) > now - LAST_USED_RESOLUTION_MS) return;
    this.touched.set(id, now);
    this.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: new Date(now) } }).catch(() => this.touched.delete(id));
  }

  async create(name: string, role: Role): Promise<{ apiKey: ApiKey; secret: string }> {
    const trimmed = name.trim();
    if (!trimmed) throw badInput('name', 'must not be empty');
    if (trimmed.length > 200) throw badInput('name', 'must be at most 200 characters');
    const secret = SECRET_PREFIX + crypto.randomBytes(30).toString('base64url');
    const apiKey = await this.prisma.apiKey.create({
      data: { name: trimmed, role, prefix: secret.slice(0, 12), secretHash: hashSecret(secret) },
    });
    return { apiKey, secret };
  }

  /** Makes sure an ADMIN key with this secret exists (VIGIL_ADMIN_API_KEY); a revoked one stays revoked. */
  async ensureAdmin(secret: string): Promise<{ apiKey: ApiKey; created: boolean }> {
    const secretHash = hashSecret(secret);
    const existing = await this.prisma.apiKey.findUnique({ where: { secretHash } });
    if (existing) return { apiKey: existing, created: false };
    try {
      const apiKey = await this.prisma.apiKey.create({
        data: { name: 'admin (VIGIL_ADMIN_API_KEY)', role: Role.ADMIN, prefix: `${secret.slice(0, 4)}…`, secretHash },
      });
      return { apiKey, created: true };
    } catch (err) {
      // Another instance starting at the same moment created it.
      const raced = await this.prisma.apiKey.findUnique({ where: { secretHash } });
      if (raced) return { apiKey: raced, created: false };
      throw err;
    }
  }

  /**
   * Revoking twice is harmless; the last active ADMIN key is never revoked. The active ADMIN rows
   * are locked first, so two ADMINs revoking each other at once take turns and the second is refused.
   */
  async revoke(id: string): Promise<ApiKey> {
    const revoked = await this.prisma.$transaction(async (tx) => {
      const key = await tx.apiKey.findUnique({ where: { id } });
      if (!key) throw notFound('ApiKey', id);
      if (key.revokedAt) return key;
      if (key.role === Role.ADMIN) {
        const admins = await tx.$queryRaw<{ id: string }[]>`
          SELECT id::text AS id FROM api_keys WHERE role = 'ADMIN' AND revoked_at IS NULL ORDER BY id FOR UPDATE`;
        if (admins.length <= 1 && admins.some((a) => a.id === id)) {
          throw conflict('id', 'this is the last active ADMIN key; create another ADMIN key before revoking it');
        }
      }
      const [changed] = await tx.apiKey.updateManyAndReturn({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
      // Revoked meanwhile by another request: that revocation stands.
      return changed ?? tx.apiKey.findUniqueOrThrow({ where: { id } });
    });
    this.cache.clear();
    return revoked;
  }

  get(id: string): Promise<ApiKey | null> {
    return this.prisma.apiKey.findUnique({ where: { id } });
  }

  count(): Promise<number> {
    return this.prisma.apiKey.count();
  }

  list(page: PageArgs): Promise<Connection<ApiKey>> {
    return paginate({
      page,
      ordering: ORDER,
      limits: this.options.limits,
      where: {},
      find: (q) => this.prisma.apiKey.findMany(q),
      count: (where) => this.prisma.apiKey.count({ where }),
    });
  }
}
