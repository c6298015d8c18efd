import { injectable } from 'tsyringe';
import { WorkflowRunService } from '../workflows/workflow-run.service';
import { Arg, Authorized, ID, Mutation, Resolver } from 'type-graphql';
import { WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { ImageType } from './image.type';
import { UploadService } from './upload.service';
import { ImageUploadTicket, toTickets, UploadFileInput } from './upload.type';

@injectable()
@Resolver()
export class UploadResolver {
  constructor(
    private readonly uploadService: UploadService,
    private readonly workflowRunService: WorkflowRunService,
  ) {}

  @Authorized(WRITE_FLEET)
  @Mutation(() => [ImageUploadTicket], {
    description:
      'Registers files of an inspection (at most 1000 per call) and returns where to PUT each. A refused file is reported in its ticket; the others go ahead.',
  })
  async requestImageUploads(
    @Arg('inspectionId', () => ID) inspectionId: string,
    @Arg('files', () => [UploadFileInput], { validate: false }) files: UploadFileInput[],
  ): Promise<ImageUploadTicket[]> {
    return toTickets(await this.uploadService.request({ inspectionId: fromGlobalId('Inspection', inspectionId, 'inspectionId') }, files));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => [ImageType], {
    description:
      'Checks the uploaded bytes and makes the derivatives: each image ends READY or REJECTED (see rejection). When no image of an inspection awaits its bytes any more, detection starts (WORKFLOW_AUTO_START). Repeating the call is harmless.',
  })
  async completeImageUploads(@Arg('imageIds', () => [ID]) imageIds: string[]) {
    const images = await this.uploadService.complete(imageIds.map((id, i) => fromGlobalId('Image', id, `imageIds[${i}]`)));
    await this.workflowRunService.startWhenUploaded(images.flatMap((i) => (i.inspectionId ? [i.inspectionId] : [])));
    return images;
  }
}
