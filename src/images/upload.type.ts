import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { RejectionReason } from '../generated/prisma/enums';
import { ImageType } from './image.type';
import { type UploadTicket } from './upload.service';

export { RejectionReason };

registerEnumType(RejectionReason, {
  name: 'RejectionReason',
  valuesConfig: {
    EMPTY: { description: 'The file has no bytes.' },
    TOO_LARGE: { description: 'More bytes than UPLOAD_MAX_BYTES.' },
    UNSUPPORTED_TYPE: { description: 'The content is not a JPEG, PNG, WebP or TIFF image (whatever its name says).' },
    TOO_MANY_PIXELS: { description: 'The header declares more pixels than UPLOAD_MAX_PIXELS (e.g. a decompression bomb).' },
    TOO_SMALL: { description: 'A side is shorter than UPLOAD_MIN_SIDE.' },
    CORRUPT: { description: 'The image cannot be decoded, e.g. a truncated file.' },
    NOT_UPLOADED: { description: 'No bytes arrived for the image.' },
    SIZE_MISMATCH: { description: 'Another number of bytes arrived than was announced.' },
    CHECKSUM_MISMATCH: { description: 'The bytes do not match the announced sha256.' },
  },
});

@InputType({ description: 'A file about to be uploaded. vigil never uses the name for anything but display.' })
export class UploadFileInput {
  @Field()
  filename: string;

  @Field({ description: 'image/jpeg, image/png, image/webp or image/tiff.' })
  contentType: string;

  @Field(() => Int)
  byteSize: number;

  @Field({ description: 'SHA-256 of the bytes, lowercase hex: uploading the same file twice finds the first image.' })
  sha256: string;
}

@ObjectType({ description: 'Why one file of requestImageUploads was not accepted.' })
export class UploadProblem {
  @Field({ description: 'BAD_USER_INPUT or a RejectionReason.' })
  code: string;

  @Field()
  field: string;

  @Field()
  message: string;
}

@ObjectType({ description: 'Where to upload one file, or why not.' })
export class ImageUploadTicket {
  @Field()
  filename: string;

  @Field(() => ImageType, { nullable: true, description: 'Null when the file was refused (see problem).' })
  image: ImageType | null;

  @Field(() => String, { nullable: true, description: 'PUT the bytes here; null when they are already uploaded or the file was refused.' })
  uploadUrl: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Headers the PUT must carry exactly.' })
  uploadHeaders: Record<string, string> | null;

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  @Field(() => UploadProblem, { nullable: true })
  problem: UploadProblem | null;
}

@ObjectType()
export class ImageRejection {
  @Field(() => RejectionReason)
  reason: RejectionReason;

  @Field()
  message: string;
}

@ObjectType('ImageTile', { description: "A tile of the image's normalised copy, in that copy's pixels." })
export class ImageTile {
  @Field(() => Int)
  index: number;

  @Field(() => Int)
  x: number;

  @Field(() => Int)
  y: number;

  @Field(() => Int)
  width: number;

  @Field(() => Int)
  height: number;
}

/** The service's tickets as the API shows them. */
export function toTickets(tickets: UploadTicket[]): ImageUploadTicket[] {
  return tickets.map((t) => ({
    filename: t.filename,
    image: t.image as never,
    uploadUrl: t.upload?.url ?? null,
    uploadHeaders: t.upload?.headers ?? null,
    expiresAt: t.upload?.expiresAt ?? null,
    problem: t.problem,
  }));
}
