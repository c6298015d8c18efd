import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { openMobilenetBackbone } from '../src/adapters/backbone/mobilenet.driver';
import { loadArtifact } from '../src/anomaly-model/artifact';
import { predict } from '../src/anomaly-model/detector';

export interface LocalEndpoint {
  url: string;
  /** InvokeEndpoint calls answered. */
  invocations: number;
  close(): Promise<void>;
}

/**
 * A SageMaker real-time endpoint on loopback, for bench:faults: InvokeEndpoint
 * (`POST /endpoints/<name>/invocations`, the image as the body) answers what vigil's built-in model in
 * `modelFile` says of the image, in the JSON vigil's SageMaker driver reads ({IsAnomalous, Confidence}).
 * The server reaches it through AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME.
 */
export async function startSageMakerEndpoint(name: string, modelFile: string): Promise<LocalEndpoint> {
  const backbone = await openMobilenetBackbone();
  const model = await loadArtifact(modelFile);
  const path = `/endpoints/${encodeURIComponent(name)}/invocations`;
  const endpoint = { invocations: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== path) {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationError' });
      res.end(JSON.stringify({ message: `Endpoint ${req.url} not found.` }));
      return;
    }
    try {
      const verdict = await predict(backbone, model, Buffer.concat(chunks), { heatmap: false });
      endpoint.invocations++;
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-invoked-production-variant': 'AllTraffic' });
      res.end(JSON.stringify({ IsAnomalous: verdict.isAnomalous, Confidence: verdict.confidence }));
    } catch (err) {
      res.writeHead(424, { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError' });
      res.end(JSON.stringify({ message: (err as Error).message }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backbone.close?.();
    },
  });
}
