import { type Readable } from 'node:stream';
import { type FastifyInstance } from 'fastify';
import { type HttpServices } from './context-factory';
import { toGlobalId } from '../common/global-id';
import { UploadError } from '../images/upload.service';

// A client that stops sending mid-body is cut off after this long, so its upload is cleaned up and can be retried.
const UPLOAD_IDLE_MS = 60_000;

/** vigil's own signed upload and download endpoints, used when the object store is the local folder. */
export function registerUploadRoutes(app: FastifyInstance, services: HttpServices) {
  const fail = (err: unknown, reply: { code(n: number): { send(b: object): unknown } }) => {
    if (err instanceof UploadError) return reply.code(err.status).send({ error: err.code, message: err.message });
    throw err;
  };

  app.register(async (scope) => {
    // The body is streamed to the object store as it arrives, never buffered or parsed.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { token: string } }>('/uploads/:token', async (request, reply) => {
      request.raw.setTimeout(UPLOAD_IDLE_MS, () => request.raw.socket.destroy());
      try {
        const image = await services.uploads.receive(request.params.token, request.body as Readable, {
          contentType: request.headers['content-type'],
          contentLength: request.headers['content-length'],
        });
        return reply.code(200).send({ image: toGlobalId('Image', image.id), status: 'UPLOADED' });
      } catch (err) {
        // Whatever is left of the body is not wanted; without draining it the client would wait.
        request.raw.resume();
        return fail(err, reply);
      }
    });
  });

  app.get<{ Params: { token: string } }>('/objects/:token', async (request, reply) => {
    try {
      const object = await services.uploads.open(request.params.token);
      return reply
        .type(object.contentType ?? 'application/octet-stream')
        .header('content-length', object.bytes)
        .header('cache-control', 'private, max-age=300')
        .header('x-content-type-options', 'nosniff')
        .send(object.body);
    } catch (err) {
      return fail(err, reply);
    }
  });
}
