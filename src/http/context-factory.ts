import { type Logger } from 'pino';
import { type ApiKeyService } from '../auth/api-key.service';
import { type UploadService } from '../images/upload.service';
import { type ExportService } from '../exports/export.service';
import { type ReportService } from '../reports/report.service';
import { type DomainError } from '../common/errors';
import { type PageLimits } from '../common/pagination/keyset';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Context } from '../graphql/context';
import { Loaders, type LoaderServices } from '../graphql/loaders';

/** The services the HTTP layer calls itself: key checks, upload routes and the per-request loaders. */
export interface HttpServices extends LoaderServices {
  apiKeys: ApiKeyService;
  uploads: UploadService;
  exports: ExportService;
  reports: ReportService;
}

export type Identity = Pick<Context, 'caller' | 'authError'>;

export const ANONYMOUS: Identity = { caller: null, authError: null };

/** The secret in "Bearer <secret>"; null when the value has another form. */
export function bearerSecret(value: string): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1] ?? null;
}

/** Who a secret stands for; an unknown or revoked key leaves authError for @Authorized to raise. */
export async function identify(secret: string, services: Pick<HttpServices, 'apiKeys'>): Promise<Identity> {
  try {
    return { caller: await services.apiKeys.authenticate(secret), authError: null };
  } catch (err) {
    return { caller: null, authError: err as DomainError };
  }
}

export interface ContextDeps {
  services: HttpServices;
  events: EventBus;
  pagination: PageLimits;
}

/** One Context per HTTP request or per subscription, the same for both transports; an HTTP request's reads stop at its deadline. */
export function createContext(
  deps: ContextDeps,
  request: { requestId: string; log: Logger; timeoutMs?: number },
  identity: Identity,
): Context {
  const deadline = request.timeoutMs ? { at: Date.now() + request.timeoutMs, ms: request.timeoutMs } : null;
  return {
    requestId: request.requestId,
    log: request.log,
    ...identity,
    events: deps.events,
    loaders: new Loaders(deps.services, deps.pagination, deadline),
  };
}
