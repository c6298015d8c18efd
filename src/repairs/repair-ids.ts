import { fromPlainId, type PlainIdType, toPlainId } from '../common/global-id';

export type RepairNodeType = Extract<PlainIdType, 'Defect' | 'WorkOrder'>;

export const toRepairId = (type: RepairNodeType, id: string) => toPlainId(type, id);

export const fromRepairId = (type: RepairNodeType, globalId: string, field: string) => fromPlainId(type, globalId, field);
