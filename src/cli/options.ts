import { InvalidArgumentError } from 'commander';

/** A commander option parser for a whole number from `min` to `max`, refusing anything else with the range. */
export function wholeNumber(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}
