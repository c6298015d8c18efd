import { z } from 'zod';

// Value types several settings share, with the messages a bad value is reported with.

export const bool = z.enum(['true', 'false', '1', '0'], { message: 'expected true or false' }).transform((v) => v === 'true' || v === '1');

export const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `expected a whole number from ${min} to ${max}` })
    .max(max, { message: `expected a whole number from ${min} to ${max}` });

const KB_PER = { kB: 1, MB: 1024, GB: 1024 * 1024 };

/** A PostgreSQL memory size ("512kB", "32MB", "1GB") from `min` to `max` (both as such sizes), kept as written. */
export const memorySize = (min: string, max: string) => {
  const kb = (v: string) => {
    const m = /^([1-9]\d{0,6})(kB|MB|GB)$/.exec(v);
    return m ? Number(m[1]) * KB_PER[m[2] as keyof typeof KB_PER] : null;
  };
  return z.string().refine(
    (v) => {
      const n = kb(v);
      return n !== null && n >= kb(min)! && n <= kb(max)!;
    },
    { message: `expected a size from ${min} to ${max}, such as 32MB` },
  );
};

export const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/.+/, { message: 'expected a postgresql://user@host:port/database URL' });

export const stateMachineArn = z.string().regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
  message: 'expected a Step Functions state machine ARN',
});
export const priceTable = z.record(z.string(), z.number().min(0).max(100));
