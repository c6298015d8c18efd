import { type FastifyInstance } from 'fastify';
import { ExportLinkError } from '../exports/export.service';
import { type HttpServices } from './context-factory';

/** GET /exports/<token>: a signed export link, streamed as an attachment. */
export function registerExportRoutes(app: FastifyInstance, services: HttpServices) {
  // HEAD would otherwise run (and discard) the whole export.
  app.get<{ Params: { token: string } }>('/exports/:token', { exposeHeadRoute: false }, async (request, reply) => {
    try {
      const file = services.exports.open(request.params.token);
      return reply
        .type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff')
        .send(file.body);
    } catch (err) {
      if (!(err instanceof ExportLinkError)) throw err;
      if (err.status === 503) reply.header('retry-after', '5');
      return reply.code(err.status).send({ error: err.code, message: err.message });
    }
  });
}
