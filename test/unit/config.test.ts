import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';

describe('configuration', () => {
  it('defaults to the embedded database under ./.vigil on port 4000', () => {
    const c = loadConfig({});
    expect(c.database).toEqual({ kind: 'pglite', dataDir: path.resolve('.vigil', 'db'), sharedBuffers: '32MB', preparedStatements: 64 });
    expect(loadConfig({ PGLITE_SHARED_BUFFERS: '256MB' }).database).toMatchObject({ sharedBuffers: '256MB' });
    expect(c.http).toMatchObject({ port: 4000, host: '127.0.0.1' });
    expect(c.env).toBe('production');
    expect(c.pagination).toEqual({ defaultPageSize: 50, maxPageSize: 500 });
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    const c = loadConfig({ DATABASE_URL: 'postgresql://u@db:5432/vigil', DATABASE_POOL_SIZE: '20' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgresql://u@db:5432/vigil', poolSize: 20, preparedStatements: 64 });
  });

  it('keeps up to 64 statement texts prepared on PostgreSQL unless told otherwise (0: none), and refuses a bad count', () => {
    const url = 'postgresql://u@db:5432/vigil';
    expect(loadConfig({ DATABASE_URL: url, DATABASE_PREPARED_STATEMENTS: '0' }).database).toMatchObject({ preparedStatements: 0 });
    expect(() => loadConfig({ DATABASE_URL: url, DATABASE_PREPARED_STATEMENTS: '-1' })).toThrow(/DATABASE_PREPARED_STATEMENTS/);
  });

  it("lets the heap grow to twice what the last full collection kept, unless told otherwise (0: V8's own rule)", () => {
    expect(loadConfig({}).heapGrowthPercent).toBe(100);
    expect(loadConfig({ HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent).toBe(0);
    expect(loadConfig({ HEAP_GROWTH_PERCENT: '50' }).heapGrowthPercent).toBe(50);
  });

  it('serves 4 GraphQL requests at once on the embedded database and 16 on PostgreSQL, with a line of 256 or 1024', () => {
    expect(loadConfig({}).limits.admission).toEqual({ maxConcurrent: 4, maxQueued: 256, maxWaitMs: 1000 });
    expect(loadConfig({ DATABASE_URL: 'postgresql://db/vigil' }).limits.admission).toEqual({
      maxConcurrent: 16,
      maxQueued: 1024,
      maxWaitMs: 1000,
    });
    expect(loadConfig({ MAX_CONCURRENT_REQUESTS: '8', MAX_QUEUE_LENGTH: '0', MAX_QUEUE_WAIT_MS: '250' }).limits.admission).toEqual({
      maxConcurrent: 8,
      maxQueued: 0,
      maxWaitMs: 250,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.kind).toBe('pglite');
  });

  it.each([
    ['PORT', 'http', 'PORT="http": expected a whole number'],
    ['PORT', '70000', 'PORT="70000": expected a whole number from 0 to 65535'],
    ['DATABASE_URL', 'mysql://root@db/vigil', 'DATABASE_URL="mysql://root@db/vigil": expected a postgresql://'],
    ['VIGIL_ADMIN_API_KEY', 'short', 'VIGIL_ADMIN_API_KEY="short": expected a secret of at least 24 characters'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL="loud": expected one of fatal'],
    ['NODE_ENV', 'staging', 'NODE_ENV="staging": expected development, production or test'],
    ['GRAPHIQL', 'yes', 'GRAPHIQL="yes": expected true or false'],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL="localhost:6379": expected a redis://host:port URL'],
    ['DEFAULT_PAGE_SIZE', '501', 'DEFAULT_PAGE_SIZE="501": expected a whole number from 1 to 500'],
    ['HEAP_GROWTH_PERCENT', '-5', 'HEAP_GROWTH_PERCENT="-5": expected a whole number from 0 to 1000'],
    ['MAX_QUEUE_LENGTH', '-1', 'MAX_QUEUE_LENGTH="-1": expected a whole number from 0 to 100000'],
    ['PGLITE_SHARED_BUFFERS', 'lots', 'PGLITE_SHARED_BUFFERS="lots": expected a size from 1MB to 1GB, such as 32MB'],
    ['PGLITE_SHARED_BUFFERS', '512kB', 'PGLITE_SHARED_BUFFERS="512kB": expected a size from 1MB to 1GB'],
    ['PGLITE_SHARED_BUFFERS', '2GB', 'PGLITE_SHARED_BUFFERS="2GB": expected a size from 1MB to 1GB'],
    ['PGLITE_SHARED_BUFFERS', '32mb', 'PGLITE_SHARED_BUFFERS="32mb": expected a size from 1MB to 1GB'],
  ])('%s=%s is refused with a message naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('runs the built-in model on MobileNetV2 by default, and on an ONNX file only with its taps and strides', () => {
    expect(loadConfig({}).detectors.backbone).toEqual({ kind: 'mobilenet', threads: 1 });
    const onnx = loadConfig({
      BACKBONE: 'onnx',
      BACKBONE_ONNX_FILE: 'nets/wrn50.onnx',
      BACKBONE_ONNX_TAPS: 'layer2, layer3',
      BACKBONE_ONNX_STRIDES: '8,16',
      BACKBONE_ONNX_INPUT_SIZE: '224x224',
      BACKBONE_THREADS: '2',
    });
    expect(onnx.detectors.backbone).toEqual({
      kind: 'onnx',
      threads: 2,
      file: path.resolve('nets/wrn50.onnx'),
      taps: ['layer2', 'layer3'],
      strides: [8, 16],
      inputSize: { width: 224, height: 224 },
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems({ BACKBONE: 'onnx' })).toMatch(
      /BACKBONE_ONNX_FILE="": required when BACKBONE=onnx[\s\S]*BACKBONE_ONNX_TAPS="": required[\s\S]*BACKBONE_ONNX_STRIDES="": required/,
    );
    expect(problems({ BACKBONE: 'onnx', BACKBONE_ONNX_FILE: 'a.onnx', BACKBONE_ONNX_TAPS: 'x,y', BACKBONE_ONNX_STRIDES: '8' })).toContain(
      'expected one stride per tap (2)',
    );
    expect(problems({ BACKBONE: 'resnet' })).toContain('BACKBONE="resnet": expected mobilenet or onnx');
    expect(problems({ BACKBONE_ONNX_INPUT_SIZE: '224' })).toContain('expected dynamic or WIDTHxHEIGHT');
    expect(problems({ BACKBONE_ONNX_MEAN: '1,2' })).toContain('expected three numbers (R,G,B)');
  });

  it('runs stage 2 as a Batch Transform job only with a model, S3 and a SageMaker-format model', () => {
    const s3 = { OBJECT_STORE: 's3', S3_BUCKET: 'vigil-images', INSPECT_DETECTOR: 'sagemaker' };
    expect(loadConfig({}).detectors.inspect).toEqual({ kind: 'builtin' });
    expect(
      loadConfig({ ...s3, INSPECT_MODE: 'batch', SAGEMAKER_BATCH_MODEL_NAME: 'vigil-anomaly', SAGEMAKER_BATCH_INSTANCE_COUNT: '3' })
        .detectors.inspect,
    ).toEqual({
      kind: 'sagemaker-batch',
      modelName: 'vigil-anomaly',
      instanceType: 'ml.m5.xlarge',
      instanceCount: 3,
      instanceHourUsd: 0.23,
      reviewBelow: 0.75,
    });
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ ...s3, INSPECT_MODE: 'batch' })).toEqual(['SAGEMAKER_BATCH_MODEL_NAME="": required when INSPECT_MODE=batch']);
    expect(problems({ INSPECT_DETECTOR: 'sagemaker', INSPECT_MODE: 'batch', SAGEMAKER_BATCH_MODEL_NAME: 'm' })).toEqual([
      'OBJECT_STORE="": INSPECT_MODE=batch needs OBJECT_STORE=s3: Batch Transform reads S3',
    ]);
    expect(problems({ ...s3, INSPECT_DETECTOR: 'builtin', INSPECT_MODE: 'batch', SAGEMAKER_BATCH_MODEL_NAME: 'm' })).toEqual([
      'INSPECT_DETECTOR="builtin": INSPECT_MODE=batch needs INSPECT_DETECTOR=sagemaker: the model must answer as the SageMaker endpoint does',
    ]);
    expect(problems({ ...s3, INSPECT_MODE: 'nightly' })).toContain('INSPECT_MODE="nightly": expected endpoint or batch');
    // The endpoint is still required in endpoint mode.
    expect(problems(s3)).toEqual(['SAGEMAKER_ENDPOINT_NAME="": required when INSPECT_DETECTOR=sagemaker']);
  });

  it('lists every bad variable at once', () => {
    const err = (() => {
      try {
        loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err?.problems).toHaveLength(2);
  });
});

describe('the reviewer page policy', () => {
  it('lets images load only from vigil itself on the local store, and from the bucket on S3', () => {
    const { imageOrigins, reviewPageCsp } = require('../../src/http/review-page') as typeof import('../../src/http/review-page');
    expect(imageOrigins({ kind: 'local', root: '/tmp/x' })).toEqual([]);
    expect(imageOrigins({ kind: 's3', bucket: 'vigil-images', region: 'eu-west-1', forcePathStyle: false })).toEqual([
      'https://vigil-images.s3.eu-west-1.amazonaws.com',
      'https://s3.eu-west-1.amazonaws.com',
    ]);
    expect(
      imageOrigins({ kind: 's3', bucket: 'b', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000/', forcePathStyle: true }),
    ).toEqual(['http://127.0.0.1:9000']);
    expect(reviewPageCsp(['https://s3.eu-west-1.amazonaws.com'])).toContain(
      "img-src 'self' data: blob: https://s3.eu-west-1.amazonaws.com;",
    );
  });
});
