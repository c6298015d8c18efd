import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { Criticality, DeviceStatus } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';

export { Criticality, DeviceStatus };

registerEnumType(DeviceStatus, {
  name: 'DeviceStatus',
  valuesConfig: {
    OK: { description: 'Last inspection found nothing open.' },
    NEEDS_ATTENTION: { description: 'An open anomaly is waiting for repair.' },
    UNKNOWN: { description: 'Not inspected yet.' },
    DECOMMISSIONED: { description: 'Out of service; kept for history.' },
  },
});

registerEnumType(Criticality, {
  name: 'Criticality',
  description: 'How much it matters if a device fails; weighs its defects in the repair queue (LOW ×0.5, MEDIUM ×1, HIGH ×2, CRITICAL ×4).',
});

@ObjectType('Device', { implements: Node, description: 'A field device: an insulator, pole, pipe, panel, pump…' })
export class DeviceType extends Node {
  @Field({ description: "The operator's own identifier, unique across the fleet." })
  externalId: string;

  @Field()
  name: string;

  @Field({ description: 'Device type, e.g. insulator; models are trained per type.' })
  type: string;

  @Field(() => Float, { nullable: true })
  latitude: number | null;

  @Field(() => Float, { nullable: true })
  longitude: number | null;

  @Field(() => DeviceStatus)
  status: DeviceStatus;

  @Field(() => Criticality)
  criticality: Criticality;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

export const DeviceConnection = ConnectionType(DeviceType, 'Device');
