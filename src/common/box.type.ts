import { Field, Float, InputType, ObjectType } from 'type-graphql';
import { type Box as BoxShape } from './box';

@ObjectType('Box', { description: 'A box in normalised image coordinates: x, y, width and height in [0, 1] from the top-left.' })
export class Box implements BoxShape {
  @Field(() => Float)
  x: number;

  @Field(() => Float)
  y: number;

  @Field(() => Float)
  width: number;

  @Field(() => Float)
  height: number;
}

@InputType('BoxInput', {
  description:
    'A box in normalised image coordinates: x, y, width and height in [0, 1] from the top-left; x + width and y + height at most 1.',
})
export class BoxInput implements BoxShape {
  @Field(() => Float)
  x: number;

  @Field(() => Float)
  y: number;

  @Field(() => Float)
  width: number;

  @Field(() => Float)
  height: number;
}
