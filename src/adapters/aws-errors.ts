import { DetectorError, TransientDetectorError } from './detectors/detector.port';

/** Errors a later attempt can get past: throttling, AWS-side failures, and a SageMaker model still loading. */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'LimitExceededException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  // SageMaker: a serverless variant or multi-model endpoint still loading; AWS says wait and retry.
  // Unlike Rekognition's ResourceNotReadyException (a stopped model), it clears by itself.
  'ModelNotReadyException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  // S3: "reduce your request rate", and its own 500.
  'SlowDown',
  'InternalError',
]);

/** Network failures from the HTTP handler. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Whether a failed AWS call (any service, S3 included) may succeed when tried again. */
export function isTransientAwsError(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return TRANSIENT_NAMES.has(e.name ?? '') || TRANSIENT_CODES.has(e.code ?? '') || Boolean(e.$retryable) || status === 429 || status >= 500;
}

/**
 * The one mapping of a failed AWS call (any service) to the errors the workflows know: transient or not, SDK error kept as cause.
 * `action` is the IAM action of the call, e.g. "rekognition:DetectLabels".
 */
export function toAwsError(err: unknown, action: string): Error {
  const e = (err ?? {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const said = e.message ? `: ${e.message}` : '';
  if (isTransientAwsError(e)) return new TransientDetectorError(`${action} failed for now (${name})${said}`, { cause: err });
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new DetectorError(
      `${action} was denied: the IAM role vigil runs as needs the "${action}" permission (AWS said${said || ' nothing more'})`,
      { cause: err },
    );
  }
  return new DetectorError(`${action} failed (${name})${said}`, { cause: err });
}

/** Runs one AWS call and maps its failure with toAwsError. */
export async function callAws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toAwsError(err, action);
  }
}
