import { z } from 'zod';

// Value types several settings share, with the messages a bad value is reported with.

export const bool = z.enum(['true', 'false', '1', '0'], { message: 'expected true or false' }).transform((v) => v === 'true' || v === '1');

export const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected a whole number from ${min} to ${max}` })
    .max(max, { message: `expected a whole number from ${min} to ${max}` });

export const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/.+/, { message: 'expected a postgresql://user@host:port/database URL' });

export const stateMachineArn = z.string().regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
  message: 'expected a Step Functions state machine ARN',
});
export const priceTable = z.record(z.string(), z.number().min(0).max(100));
