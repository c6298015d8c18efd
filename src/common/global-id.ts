import { badInput } from './errors';

// Opaque Relay ids: base64url("<Type>:<uuid>").
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type NodeType =
  | 'Device'
  | 'Inspection'
  | 'Image'
  | 'Detection'
  | 'Anomaly'
  | 'ApiKey'
  | 'Survey'
  | 'WorkflowRun'
  | 'ReviewTask'
  | 'Dataset'
  | 'DatasetEntry'
  | 'ModelVersion'
  | 'ModelDeployment';
export const NODE_TYPES: readonly NodeType[] = [
  'Device',
  'Inspection',
  'Image',
  'Detection',
  'Anomaly',
  'ApiKey',
  'Survey',
  'WorkflowRun',
  'ReviewTask',
  'Dataset',
  'DatasetEntry',
  'ModelVersion',
  'ModelDeployment',
];

export function toGlobalId(type: NodeType, id: string): string {
  return Buffer.from(`${type}:${id}`).toString('base64url');
}

/** Decodes any vigil id; null when it is not one. */
export function parseGlobalId(globalId: string): { type: NodeType; id: string } | null {
  if (globalId.length > 100 || !/^[A-Za-z0-9_-]+$/.test(globalId)) return null;
  const [type, id, ...rest] = Buffer.from(globalId, 'base64url').toString('utf8').split(':');
  if (rest.length > 0 || !NODE_TYPES.includes(type as NodeType) || !UUID.test(id ?? '')) return null;
  return { type: type as NodeType, id };
}

/** Decodes an id that must name a node of `type`; a wrong or malformed id is the caller's mistake. */
export function fromGlobalId(type: NodeType, globalId: string, field: string): string {
  const parsed = parseGlobalId(globalId);
  if (!parsed || parsed.type !== type) throw badInput(field, `"${globalId.slice(0, 100)}" is not a ${type} id`);
  return parsed.id;
}

/** Objects node(id:) does not serve (yet), with ids of the same opaque form so they stay the same once it does. */
export type PlainIdType = 'Defect' | 'WorkOrder' | 'WebhookEndpoint' | 'WebhookDelivery';

export const toPlainId = (type: PlainIdType, id: string) => Buffer.from(`${type}:${id}`).toString('base64url');

export function fromPlainId(type: PlainIdType, globalId: string, field: string): string {
  const bad = () => badInput(field, `not a ${type} id`);
  if (typeof globalId !== 'string' || globalId.length > 100 || !/^[A-Za-z0-9_-]+$/.test(globalId)) throw bad();
  const [t, id, ...rest] = Buffer.from(globalId, 'base64url').toString('utf8').split(':');
  if (t !== type || rest.length || !UUID.test(id ?? '')) throw bad();
  return id;
}
