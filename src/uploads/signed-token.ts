import crypto from 'node:crypto';

/** Why a token was refused; the HTTP layer turns these into 403/410. */
export class TokenError extends Error {
  constructor(readonly kind: 'INVALID' | 'EXPIRED') {
    super(kind === 'EXPIRED' ? 'this link has expired; ask for a new one' : 'this link is not valid');
    this.name = 'TokenError';
  }
}

/** A compact, tamper-proof, expiring token: base64url(JSON payload).base64url(HMAC-SHA256). */
export function signToken<T extends object>(payload: T, secret: string, expiresAt: Date): string {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: Math.floor(expiresAt.getTime() / 1000) })).toString('base64url');
  const mac = crypto.createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export function verifyToken<T extends object>(token: string, secret: string, now = new Date()): T {
  const [body, mac, ...rest] = token.split('.');
  if (!body || !mac || rest.length > 0 || token.length > 2000) throw new TokenError('INVALID');
  const expected = crypto.createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw new TokenError('INVALID');
  let payload: T & { exp?: unknown };
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('INVALID');
  }
  if (typeof payload.exp !== 'number') throw new TokenError('INVALID');
  if (payload.exp * 1000 < now.getTime()) throw new TokenError('EXPIRED');
  return payload;
}
