import { Field, Float, InputType, ObjectType } from 'type-graphql';
import { type Box as BoxShape } from './box';

/** One box in the API, the same class for output (Box) and input (BoxInput). */
@ObjectType('Box', { description: 'A box in normalised image coordinates: x, y, width and height in [0, 1] from the top-left.' })
@InputType('BoxInput', {
  description:
    'A box in normalised image coordinates: x, y, width and height in [0, 1] from the top-left; x + width and y + height at most 1.',
})
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

export { Box as BoxInput };
