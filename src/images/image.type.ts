import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ImageStatus } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';
import { DeviceMatch } from '../surveys/survey.type';

export { ImageStatus };

registerEnumType(ImageStatus, { name: 'ImageStatus' });

@ObjectType('Image', { implements: Node, description: 'One photograph of a device, stored in the object store.' })
export class ImageType extends Node {
  @Field({ description: 'SHA-256 of the uploaded bytes, hex.' })
  sha256: string;

  @Field()
  contentType: string;

  @Field(() => Int)
  bytes: number;

  @Field(() => Int, { nullable: true })
  width: number | null;

  @Field(() => Int, { nullable: true })
  height: number | null;

  @Field(() => Date, { nullable: true, description: 'From the camera (EXIF) when it says.' })
  capturedAt: Date | null;

  @Field(() => Float, { nullable: true })
  latitude: number | null;

  @Field(() => Float, { nullable: true })
  longitude: number | null;

  @Field(() => Float, { nullable: true })
  altitude: number | null;

  @Field(() => ImageStatus)
  status: ImageStatus;

  @Field(() => String, { nullable: true, description: 'The name the file had when it was uploaded (display only).' })
  filename: string | null;

  @Field(() => String, { nullable: true, description: 'Camera make and model, from EXIF.' })
  camera: string | null;

  @Field(() => DeviceMatch, {
    nullable: true,
    description: 'How a survey image found its device; null for images uploaded into an inspection.',
  })
  deviceMatch: DeviceMatch | null;

  @Field(() => Float, { nullable: true, description: 'Metres between the GPS position and the device, when matched by GPS.' })
  matchDistanceM: number | null;

  @Field()
  createdAt: Date;
}

export const ImageConnection = ConnectionType(ImageType, 'Image');
