import { Readable } from 'node:stream';
import { type PrismaClient } from '../generated/prisma/client';
import { DeviceMatch, ImageStatus, InspectionStatus } from '../generated/prisma/enums';
import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { conflict, notFound } from '../common/errors';
import { signToken, TokenError, verifyToken } from '../uploads/signed-token';
import { ReportData } from './report-data';
import { renderHtml } from './report-html';
import { type Report, type ReportFormat, type SurveyReport } from './report-model';
import { renderPdf } from './report-pdf';

export { HTML_CSP } from './report-html';

const RUNNING: InspectionStatus[] = [InspectionStatus.PENDING, InspectionStatus.PROCESSING];
const ARRIVING: ImageStatus[] = [ImageStatus.PENDING_UPLOAD, ImageStatus.UPLOADING, ImageStatus.UPLOADED];
const FORMATS: ReportFormat[] = ['PDF', 'HTML'];

export interface ReportOptions {
  signingSecret: string;
  urlTtlSeconds: number;
  /** Where clients reach this service, for the download link. */
  baseUrl: () => string;
}

/** What a signed report link stands for. */
interface ReportClaim {
  rpt: 'inspection' | 'survey';
  id: string;
  fmt: ReportFormat;
}

export interface ReportLink {
  url: string;
  expiresAt: Date;
  format: ReportFormat;
}

export interface ReportDocument {
  contentType: string;
  filename: string;
  body: Readable;
}

/** A refused report link; the HTTP layer answers with `status`. */
const MAX_RENDERS = 2;

export class ReportLinkError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReportLinkError';
  }
}

const slug = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60) || 'report';

/**
 * Inspection and survey reports. A link is handed out only for finished work and carries no data:
 * the report is read and rendered when the link is opened, so it shows the latest reviews and overrides.
 */
export class ReportService {
  private readonly data: ReportData;
  private rendering = 0;

  constructor(
    private readonly prisma: PrismaClient,
    store: ObjectStore,
    private readonly options: ReportOptions,
  ) {
    this.data = new ReportData(prisma, store);
  }

  async inspectionLink(inspectionId: string, format: ReportFormat): Promise<ReportLink> {
    await this.finishedInspection(inspectionId);
    return this.link({ rpt: 'inspection', id: inspectionId, fmt: format });
  }

  async surveyLink(surveyId: string, format: ReportFormat): Promise<ReportLink> {
    await this.finishedSurvey(surveyId);
    return this.link({ rpt: 'survey', id: surveyId, fmt: format });
  }

  private link(claim: ReportClaim): ReportLink {
    const expiresAt = new Date(Date.now() + this.options.urlTtlSeconds * 1000);
    const token = signToken(claim, this.options.signingSecret, expiresAt);
    return { url: `${this.options.baseUrl()}/reports/${token}`, expiresAt, format: claim.fmt };
  }

  private async finishedInspection(id: string) {
    const inspection = await this.prisma.inspection.findUnique({ where: { id }, include: { device: true } });
    if (!inspection) throw notFound('Inspection', id);
    if (RUNNING.includes(inspection.status)) {
      throw conflict(
        'inspectionId',
        `inspection ${id} is still ${inspection.status}: its report can be made once detection has finished (COMPLETED or FAILED)`,
      );
    }
    return inspection;
  }

  /** The survey's inspections, once every image has arrived and found its device and every inspection has finished. */
  private async finishedSurvey(id: string) {
    const survey = await this.prisma.survey.findUnique({ where: { id } });
    if (!survey) throw notFound('Survey', id);
    const inspections = await this.prisma.inspection.findMany({
      where: { images: { some: { surveyId: id } } },
      include: { device: { select: { name: true } } },
      orderBy: [{ device: { name: 'asc' } }, { id: 'asc' }],
    });
    if (!inspections.length) throw conflict('surveyId', `survey ${id} has no image placed on a device yet: there is nothing to report`);
    const arriving = await this.prisma.image.count({
      where: {
        surveyId: id,
        OR: [{ status: { in: ARRIVING } }, { deviceMatch: DeviceMatch.PENDING, status: { not: ImageStatus.REJECTED } }],
      },
    });
    if (arriving) throw conflict('surveyId', `survey ${id} is not finished: ${arriving} of its images are still being uploaded or checked`);
    const running = inspections.filter((i) => RUNNING.includes(i.status));
    if (running.length) {
      const names = running.slice(0, 5).map((i) => `${i.device.name} (${i.status})`);
      throw conflict(
        'surveyId',
        `survey ${id} is not finished: ${running.length} of its ${inspections.length} inspections are still running or waiting to start: ${names.join(', ')}${running.length > 5 ? ', …' : ''}`,
      );
    }
    return { survey, inspections };
  }

  private claimOf(token: string): ReportClaim {
    let claim: Partial<ReportClaim>;
    try {
      claim = verifyToken<Partial<ReportClaim>>(token, this.options.signingSecret);
    } catch (err) {
      if (err instanceof TokenError) throw new ReportLinkError(err.kind === 'EXPIRED' ? 410 : 403, err.kind, err.message);
      throw err;
    }
    const kind = claim.rpt;
    if ((kind !== 'inspection' && kind !== 'survey') || typeof claim.id !== 'string' || !FORMATS.includes(claim.fmt as ReportFormat)) {
      throw new ReportLinkError(
        403,
        'WRONG_LINK',
        'this is not a report link; ask for one with createInspectionReport or createSurveyReport',
      );
    }
    return claim as ReportClaim;
  }

  /** GET /reports/<token>: the report, read and rendered now. */
  /**
   * GET /reports/<token>: the report rendered now. A render takes seconds of CPU, so at most
   * MAX_RENDERS run at once (until their response has been sent); more are refused with 503.
   */
  async open(token: string): Promise<ReportDocument> {
    const claim = this.claimOf(token);
    if (this.rendering >= MAX_RENDERS)
      throw new ReportLinkError(503, 'BUSY', `${MAX_RENDERS} reports are being made already; try again in a moment`);
    this.rendering++;
    let handedOver = false;
    try {
      const doc = await this.render(claim);
      // 'close' comes once whether the response was sent, failed or its reader went away.
      doc.body.once('close', () => this.rendering--);
      handedOver = true;
      return doc;
    } finally {
      if (!handedOver) this.rendering--;
    }
  }

  private async render(claim: ReportClaim): Promise<ReportDocument> {
    const generatedAt = new Date();
    let report: Report;
    let name: string;
    if (claim.rpt === 'inspection') {
      const inspection = await this.finishedInspection(claim.id);
      report = { kind: 'inspection', generatedAt, body: await this.data.inspection(claim.id) };
      name = `inspection-${slug(inspection.device.externalId)}-${inspection.capturedAt.toISOString().slice(0, 10)}`;
    } else {
      const { survey, inspections } = await this.finishedSurvey(claim.id);
      report = { kind: 'survey', generatedAt, body: await this.survey(survey, inspections) };
      name = `survey-${slug(survey.name)}-${survey.createdAt.toISOString().slice(0, 10)}`;
    }
    if (claim.fmt === 'HTML') {
      return { contentType: 'text/html; charset=utf-8', filename: `${name}.html`, body: Readable.from([renderHtml(report)]) };
    }
    return { contentType: 'application/pdf', filename: `${name}.pdf`, body: renderPdf(report) };
  }

  private async survey(
    survey: { id: string; name: string; source: string; requestedBy: string; createdAt: Date },
    inspections: { id: string }[],
  ): Promise<SurveyReport> {
    const limit = this.data.newLimit();
    const groups = await this.prisma.image.groupBy({
      by: ['status', 'deviceMatch'],
      where: { surveyId: survey.id },
      _count: { _all: true },
    });
    const count = (match: (g: (typeof groups)[number]) => boolean) => groups.filter(match).reduce((n, g) => n + g._count._all, 0);
    const unassigned: DeviceMatch[] = [DeviceMatch.NO_GPS, DeviceMatch.OUT_OF_RANGE, DeviceMatch.AMBIGUOUS];
    return {
      survey,
      images: {
        total: count(() => true),
        placed: count((g) => g.deviceMatch === DeviceMatch.MATCHED || g.deviceMatch === DeviceMatch.ASSIGNED),
        unassigned: count((g) => !!g.deviceMatch && unassigned.includes(g.deviceMatch)),
        rejected: count((g) => g.status === ImageStatus.REJECTED),
      },
      inspections: await Promise.all(inspections.map((i) => this.data.inspection(i.id, limit))),
    };
  }
}
