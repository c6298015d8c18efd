import { type FastifyInstance } from 'fastify';
import { DomainError, ErrorCode } from '../common/errors';
import { HTML_CSP, ReportLinkError, type ReportService } from '../reports/report.service';

const STATUS: Partial<Record<ErrorCode, number>> = { [ErrorCode.NOT_FOUND]: 404, [ErrorCode.CONFLICT]: 409 };

/** GET /reports/<token>: a report link from createInspectionReport or createSurveyReport, rendered now. */
export function registerReportRoutes(app: FastifyInstance, services: { reports: ReportService }) {
  app.get<{ Params: { token: string } }>('/reports/:token', async (request, reply) => {
    try {
      const report = await services.reports.open(request.params.token);
      const disposition = report.contentType === 'application/pdf' ? 'attachment' : 'inline';
      reply
        .type(report.contentType)
        .header('content-disposition', `${disposition}; filename="${report.filename}"`)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff');
      // The page is vigil's origin: nothing in it may run or load from elsewhere.
      if (report.contentType.startsWith('text/html')) reply.header('content-security-policy', HTML_CSP);
      return reply.send(report.body);
    } catch (err) {
      if (err instanceof ReportLinkError) {
        if (err.status === 503) reply.header('retry-after', '5');
        return reply.code(err.status).send({ error: err.code, message: err.message });
      }
      if (err instanceof DomainError && STATUS[err.code])
        return reply.code(STATUS[err.code]!).send({ error: err.code, message: err.message });
      throw err;
    }
  });
}
