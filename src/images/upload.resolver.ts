import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { type Context } from '../graphql/context';
import { ImageType } from './image.type';
import { type UploadTicket } from './upload.service';
import { ImageUploadTicket, UploadFileInput } from './upload.types';

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

@Resolver()
export class UploadResolver {
  @Authorized(WRITE_FLEET)
  @Mutation(() => [ImageUploadTicket], {
    description: 'Registers files of an inspection (at most 1000 per call) and returns where to PUT each. A refused file is reported in its ticket; the others go ahead.',
  })
  async requestImageUploads(
    @Arg('inspectionId', () => ID) inspectionId: string,
    @Arg('files', () => [UploadFileInput], { validate: false }) files: UploadFileInput[],
    @Ctx() ctx: Context,
  ): Promise<ImageUploadTicket[]> {
    return toTickets(await ctx.services.uploads.request({ inspectionId: fromGlobalId('Inspection', inspectionId, 'inspectionId') }, files));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => [ImageType], {
    description: 'Checks the uploaded bytes and makes the derivatives: each image ends READY or REJECTED (see rejection). When no image of an inspection awaits its bytes any more, detection starts (WORKFLOW_AUTO_START). Repeating the call is harmless.',
  })
  async completeImageUploads(@Arg('imageIds', () => [ID]) imageIds: string[], @Ctx() ctx: Context) {
    const images = await ctx.services.uploads.complete(imageIds.map((id, i) => fromGlobalId('Image', id, `imageIds[${i}]`)));
    await ctx.services.workflowRuns.startWhenUploaded(images.flatMap((i) => (i.inspectionId ? [i.inspectionId] : [])));
    return images;
  }
}
