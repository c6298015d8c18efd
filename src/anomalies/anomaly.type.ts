import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { AnomalySource, AnomalyStatus, Severity } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';

export { AnomalySource, AnomalyStatus, Severity };

registerEnumType(AnomalyStatus, {
  name: 'AnomalyStatus',
  valuesConfig: {
    SUSPECTED: { description: 'Found by a model, not yet confirmed by a person.' },
    CONFIRMED: { description: 'A person confirmed it; waiting for repair.' },
    REJECTED: { description: 'A person found nothing wrong.' },
    RESOLVED: { description: 'Repaired: the next inspection showed nothing there, or an operator resolved its defect.' },
  },
});
registerEnumType(AnomalySource, { name: 'AnomalySource' });
registerEnumType(Severity, { name: 'Severity', description: 'How bad an anomaly or a defect is; see severityRules.' });

@ObjectType({ description: 'A severity set by a person instead of the rules, and why.' })
export class SeverityOverride {
  @Field(() => Severity)
  severity: Severity;

  @Field()
  reason: string;

  @Field({ description: "The API key's name." })
  by: string;

  @Field()
  at: Date;
}

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
