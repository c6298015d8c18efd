import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { AnomalySource, AnomalyStatus } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';

export { AnomalySource, AnomalyStatus };

registerEnumType(AnomalyStatus, {
  name: 'AnomalyStatus',
  valuesConfig: {
    SUSPECTED: { description: 'Found by a model, not yet confirmed by a person.' },
    CONFIRMED: { description: 'A person confirmed it; waiting for repair.' },
    REJECTED: { description: 'A person found nothing wrong.' },
    RESOLVED: { description: 'Repaired.' },
  },
});
registerEnumType(AnomalySource, { name: 'AnomalySource' });

@ObjectType('Anomaly', { implements: Node, description: 'Something wrong with a device, seen in one image.' })
export class AnomalyType extends Node {
  @Field({ description: 'What is wrong, e.g. missing-cap, crack, corrosion.' })
  type: string;

  @Field(() => Float)
  confidence: number;

  @Field(() => AnomalyStatus)
  status: AnomalyStatus;

  @Field(() => AnomalySource)
  source: AnomalySource;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

export const AnomalyConnection = ConnectionType(AnomalyType, 'Anomaly');
