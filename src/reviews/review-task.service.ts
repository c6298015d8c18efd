import { type PrismaClient, type ReviewTask } from '../generated/prisma/client';
import { type ReviewReason } from '../generated/prisma/enums';

export interface NewReviewTask {
  imageId: string;
  inspectionId: string;
  detectionId: string | null;
  reason: ReviewReason;
  uncertainty: number;
}

/** Review tasks: one per (image, reason), so a retried or replayed workflow step asks once. */
export class ReviewTaskService {
  constructor(private readonly prisma: PrismaClient) {}

  /** `created` is false when the task existed already (nothing to announce). */
  async createOnce(db: PrismaClient, input: NewReviewTask): Promise<{ task: ReviewTask; created: boolean }> {
    const key = { imageId_reason: { imageId: input.imageId, reason: input.reason } };
    const earlier = await db.reviewTask.findUnique({ where: key });
    if (earlier) return { task: earlier, created: false };
    const [task] = await db.reviewTask.createManyAndReturn({ data: [input], skipDuplicates: true });
    if (task) return { task, created: true };
    return { task: (await db.reviewTask.findUnique({ where: key }))!, created: false };
  }

  get(id: string): Promise<ReviewTask | null> {
    return this.prisma.reviewTask.findUnique({ where: { id } });
  }

  byIds(ids: readonly string[]): Promise<ReviewTask[]> {
    return this.prisma.reviewTask.findMany({ where: { id: { in: [...ids] } } });
  }

  ofInspections(inspectionIds: readonly string[]): Promise<ReviewTask[]> {
    return this.prisma.reviewTask.findMany({ where: { inspectionId: { in: [...inspectionIds] } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }
}
