import { IsOptional, Length } from 'class-validator';
import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DeviceMatch } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';
import { InspectionSource } from '../inspections/inspection.type';

export { DeviceMatch };

registerEnumType(DeviceMatch, {
  name: 'DeviceMatch',
  description: 'How a survey image found its device.',
  valuesConfig: {
    PENDING: { description: 'Not yet looked at: the image is not READY yet.' },
    MATCHED: { description: 'By GPS: the nearest device in service within GPS_MATCH_RADIUS_M.' },
    ASSIGNED: { description: 'By a person, with assignImage.' },
    NO_GPS: { description: 'The image carries no GPS position; a person must choose.' },
    OUT_OF_RANGE: { description: 'No device in service within GPS_MATCH_RADIUS_M; a person must choose.' },
    AMBIGUOUS: { description: 'The two nearest devices are within GPS_MATCH_AMBIGUITY_M of the same distance; a person must choose.' },
  },
});

@ObjectType('Survey', {
  implements: Node,
  description:
    'Photographs taken over many devices (a drone flight, a vehicle run). Each READY image goes into an inspection of the device it was taken at, one inspection per device and survey.',
})
export class SurveyType extends Node {
  @Field()
  name: string;

  @Field(() => InspectionSource)
  source: InspectionSource;

  @Field()
  requestedBy: string;

  @Field()
  createdAt: Date;
}

export const SurveyConnection = ConnectionType(SurveyType, 'Survey');

@ObjectType({ description: "How many of a survey's images ended how." })
export class SurveyImageCounts {
  @Field(() => Int, { description: 'Every image of the survey, in any status.' })
  total: number;

  @Field(() => Int, { description: 'Not READY yet, or rejected (see Image.rejection).' })
  pending: number;

  @Field(() => Int)
  matched: number;

  @Field(() => Int)
  assigned: number;

  @Field(() => Int, { description: 'READY images waiting for a person (NO_GPS, OUT_OF_RANGE, AMBIGUOUS).' })
  unassigned: number;
}

@InputType()
export class CreateSurveyInput {
  @Field({ description: 'For people, e.g. the flight or folder name.' })
  @Length(1, 200)
  name: string;

  @Field(() => InspectionSource)
  source: InspectionSource;

  @Field({ nullable: true, description: "Defaults to the calling API key's name." })
  @IsOptional()
  @Length(1, 200)
  requestedBy?: string;

  @Field({
    nullable: true,
    description: 'Any string chosen by the client: repeating the call with it returns the survey the first call created.',
  })
  @IsOptional()
  @Length(1, 100)
  idempotencyKey?: string;
}
