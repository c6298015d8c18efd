import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { InspectionSource, InspectionStatus } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';

export { InspectionSource, InspectionStatus };

registerEnumType(InspectionSource, { name: 'InspectionSource', description: 'Who took the photographs.' });
registerEnumType(InspectionStatus, { name: 'InspectionStatus' });

@ObjectType('Inspection', { implements: Node, description: 'One visit to a device: the photographs taken and what was found in them.' })
export class InspectionType extends Node {
  @Field(() => InspectionSource)
  source: InspectionSource;

  @Field(() => InspectionStatus)
  status: InspectionStatus;

  @Field({ description: 'When the photographs were taken.' })
  capturedAt: Date;

  @Field({ description: 'Who asked for it: a person, a crew or an app.' })
  requestedBy: string;

  @Field(() => String, { nullable: true })
  notes: string | null;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

export const InspectionConnection = ConnectionType(InspectionType, 'Inspection');
