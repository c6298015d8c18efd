import { badInput } from '../common/errors';

// The same opaque form as src/common/global-id.ts (base64url "<Type>:<uuid>"), so the ids stay the same once
// node(id:) learns these types.
export type RepairNodeType = 'Defect' | 'WorkOrder';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const toRepairId = (type: RepairNodeType, id: string) => Buffer.from(`${type}:${id}`).toString('base64url');

export function fromRepairId(type: RepairNodeType, globalId: string, field: string): string {
  const bad = () => badInput(field, `not a ${type} id`);
  if (typeof globalId !== 'string' || globalId.length > 100 || !/^[A-Za-z0-9_-]+$/.test(globalId)) throw bad();
  const [t, id, ...rest] = Buffer.from(globalId, 'base64url').toString('utf8').split(':');
  if (t !== type || rest.length || !UUID.test(id ?? '')) throw bad();
  return id;
}
