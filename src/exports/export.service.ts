import { Readable } from 'node:stream';
import { type PrismaClient } from '../generated/prisma/client';
import { DomainError } from '../common/errors';
import { signToken, TokenError, verifyToken } from '../uploads/signed-token';
import { csvStream, DEFECT_COLUMNS, WORK_ORDER_COLUMNS } from './csv';
import { checkFilter, ExportKind, type ExportFilter } from './export-filter';
import { defectPages, devicePages, EXPORT_PAGE_SIZE, workOrderPages } from './export-rows';
import { geojsonChunks } from './geojson';
import { kmlChunks } from './kml';

export interface ExportOptions {
  /** The secret of vigil's own signed links (UPLOAD_SIGNING_SECRET or DATA_DIR/signing.key). */
  signingSecret: string;
  /** How long a link may be used to start the download; a download under way runs to its end. */
  ttlSeconds: number;
  baseUrl: () => string;
  /** Exports streaming at once; more are refused with 503 until one ends. */
  maxConcurrent?: number;
  pageSize?: number;
}

export interface ExportLink {
  kind: ExportKind;
  url: string;
  expiresAt: Date;
  contentType: string;
}

/** An export link that cannot be served: the HTTP layer answers with the status and a JSON error. */
export class ExportLinkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const FORMATS: Record<ExportKind, { contentType: string; name: string; extension: string }> = {
  DEVICES_GEOJSON: { contentType: 'application/geo+json', name: 'devices', extension: 'geojson' },
  DEVICES_KML: { contentType: 'application/vnd.google-earth.kml+xml', name: 'devices', extension: 'kml' },
  DEFECTS_CSV: { contentType: 'text/csv; charset=utf-8', name: 'defects', extension: 'csv' },
  WORK_ORDERS_CSV: { contentType: 'text/csv; charset=utf-8', name: 'work-orders', extension: 'csv' },
};

/** What the link carries: the kind and the checked filter, nothing stored. */
interface ExportClaim {
  export: ExportKind;
  filter: ExportFilter;
}

/** GeoJSON and KML of the fleet, CSV of defects and work orders: signed links, then streams in keyset pages. */
export class ExportService {
  private running = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: ExportOptions,
  ) {}

  /** Checks the filter and signs a short-lived link that serves the export. */
  createLink(kind: ExportKind, filter: ExportFilter): ExportLink {
    const checked = checkFilter(kind, filter ?? {});
    const expiresAt = new Date(Date.now() + this.options.ttlSeconds * 1000);
    const token = signToken<ExportClaim>({ export: kind, filter: checked }, this.options.signingSecret, expiresAt);
    return { kind, url: `${this.options.baseUrl()}/exports/${token}`, expiresAt, contentType: FORMATS[kind].contentType };
  }

  /** GET /exports/<token>: the stream, read from the database as the client takes it. */
  open(token: string, now = new Date()): { body: Readable; contentType: string; filename: string } {
    const { kind, filter } = this.verify(token);
    const max = this.options.maxConcurrent ?? 4;
    if (this.running >= max) throw new ExportLinkError(503, 'BUSY', `${max} exports are streaming already; try again in a moment`);
    const body = this.stream(kind, filter);
    this.running++;
    // 'close' comes once whether the stream ends, fails or its reader goes away.
    body.once('close', () => this.running--);
    const format = FORMATS[kind];
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    return { body, contentType: format.contentType, filename: `vigil-${format.name}-${stamp}.${format.extension}` };
  }

  private stream(kind: ExportKind, filter: ExportFilter): Readable {
    const size = this.options.pageSize ?? EXPORT_PAGE_SIZE;
    switch (kind) {
      case ExportKind.DEVICES_GEOJSON:
        return Readable.from(geojsonChunks(devicePages(this.prisma, filter, size)), { objectMode: false });
      case ExportKind.DEVICES_KML:
        return Readable.from(kmlChunks(devicePages(this.prisma, filter, size)), { objectMode: false });
      case ExportKind.DEFECTS_CSV:
        return csvStream(defectPages(this.prisma, filter, size), DEFECT_COLUMNS);
      case ExportKind.WORK_ORDERS_CSV:
        return csvStream(workOrderPages(this.prisma, filter, size), WORK_ORDER_COLUMNS);
    }
  }

  private verify(token: string): { kind: ExportKind; filter: ExportFilter } {
    let claim: Partial<ExportClaim>;
    try {
      claim = verifyToken<Partial<ExportClaim>>(token, this.options.signingSecret);
    } catch (err) {
      if (err instanceof TokenError) throw new ExportLinkError(err.kind === 'EXPIRED' ? 410 : 403, err.kind, err.message);
      throw err;
    }
    const kind = claim.export;
    if (typeof kind !== 'string' || !(kind in FORMATS) || typeof claim.filter !== 'object' || claim.filter === null) {
      throw new ExportLinkError(403, 'WRONG_LINK', 'this is not an export link; ask createExport for one');
    }
    try {
      return { kind, filter: checkFilter(kind, claim.filter) };
    } catch (err) {
      // Only a link signed by an older version with other rules could get here.
      if (err instanceof DomainError) throw new ExportLinkError(403, 'WRONG_LINK', `this export link no longer applies: ${err.message}`);
      throw err;
    }
  }
}
