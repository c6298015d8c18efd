import pino, { type Logger } from 'pino';
import { type Config } from '../config/config';

export type { Logger };

/** Structured JSON logs on stdout; secrets in headers never reach them. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'vigil' },
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
