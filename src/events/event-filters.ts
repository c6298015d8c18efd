import { filter } from '@graphql-yoga/subscription';
import { badInput } from '../common/errors';
import { fromGlobalId } from '../common/global-id';
import { validateInput } from '../common/validation';
import {
  type AnomalyDetectedEvent,
  type DefectChangedEvent,
  type DeviceStatusChangedEvent,
  type WorkOrderChangedEvent,
} from '../adapters/event-bus/event-bus.port';
import { rank, type Severity } from '../repairs/severity';
import {
  type AnomalySubscriptionFilter,
  type DefectSubscriptionFilter,
  type DeviceStatusFilter,
  type WorkOrderSubscriptionFilter,
} from './subscription.input';

export type Matcher<E> = (event: E) => boolean;

/** Only the events that match, decided on the payload before anything is loaded. */
export function where<E>(events: AsyncIterable<E>, matches: Matcher<E>): AsyncIterable<E> {
  return filter(matches)(events);
}

/** A subscription's filter argument checked like any other input: its problems are BAD_USER_INPUT. */
export async function checkedFilter<T extends object>(cls: new () => T, value: T | null | undefined): Promise<T | undefined> {
  if (!value) return undefined;
  const [problem] = await validateInput(cls, value, 'filter');
  if (problem) throw badInput(problem.field, problem.message);
  return value;
}

// A list that is omitted or empty lets everything through.
const setOf = <T>(values?: readonly T[] | null) => (values?.length ? new Set(values) : null);
const oneOf = <T>(allowed: ReadonlySet<T> | null, value: T) => !allowed || allowed.has(value);
const deviceIds = (ids?: readonly string[] | null) => setOf(ids?.map((id, i) => fromGlobalId('Device', id, `filter.deviceIds[${i}]`)));

export function anomalyMatcher(f?: AnomalySubscriptionFilter): Matcher<AnomalyDetectedEvent> {
  const devices = deviceIds(f?.deviceIds);
  const types = setOf(f?.types);
  const minConfidence = f?.minConfidence ?? 0;
  return (e) => oneOf(devices, e.deviceId) && oneOf(types, e.type) && e.confidence >= minConfidence;
}

export function deviceStatusMatcher(f?: DeviceStatusFilter): Matcher<DeviceStatusChangedEvent> {
  const devices = deviceIds(f?.deviceIds);
  const types = setOf(f?.types);
  const statuses = setOf<string>(f?.statuses);
  return (e) => oneOf(devices, e.deviceId) && oneOf(types, e.deviceType) && oneOf(statuses, e.status);
}

export function defectMatcher(f?: DefectSubscriptionFilter): Matcher<DefectChangedEvent> {
  const devices = deviceIds(f?.deviceIds);
  const types = setOf(f?.types);
  const statuses = setOf<string>(f?.statuses);
  const min = f?.minSeverity ? rank(f.minSeverity) : 0;
  return (e) => oneOf(devices, e.deviceId) && oneOf(types, e.type) && oneOf(statuses, e.status) && rank(e.severity as Severity) >= min;
}

export function workOrderMatcher(f?: WorkOrderSubscriptionFilter): Matcher<WorkOrderChangedEvent> {
  const devices = deviceIds(f?.deviceIds);
  const statuses = setOf<string>(f?.statuses);
  return (e) => oneOf(devices, e.deviceId) && oneOf(statuses, e.status);
}
