import { type Detection, type Image, type PrismaClient } from '../generated/prisma/client';
import { rowsByIds, connectionsFor } from '../common/pagination/batch';
import { byId, type Ordering, type PageRequest, listOrdering } from '../common/pagination/keyset';
import { columnIn, nestedCounts, type NestedList, type NestedRelation, nestedPages } from '../common/pagination/nested';
import { type ImageStatus } from '../generated/prisma/enums';

export const IMAGE_ORDER: Ordering = listOrdering('Image', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'asc' },
  byId('asc'),
]);
const OF_INSPECTION: NestedRelation = { table: 'images', parentColumn: 'inspection_id' };
/** Each inspection's images, optionally only some statuses. */
export const imagesOfInspections = (statuses?: readonly ImageStatus[]): NestedList => ({
  relation: OF_INSPECTION,
  ordering: IMAGE_ORDER,
  filter: columnIn('status', statuses),
});

export class ImageService {
  constructor(private readonly prisma: PrismaClient) {}

  byIds(ids: readonly string[]): Promise<(Image | null)[]> {
    return rowsByIds(ids, (in_) => this.prisma.image.findMany({ where: { id: { in: in_ } } }));
  }

  async pagesOfInspections(
    inspectionIds: readonly string[],
    req: PageRequest,
    statuses: ImageStatus[] | undefined,
    count: (id: string) => Promise<number>,
    fields?: readonly string[],
  ) {
    const list = imagesOfInspections(statuses);
    const rows = await nestedPages<Image>(this.prisma, list.relation, list.ordering, req, inspectionIds, list.filter, fields);
    return connectionsFor(rows, req, IMAGE_ORDER, count);
  }

  countsOfInspections(inspectionIds: readonly string[], statuses?: ImageStatus[]): Promise<Map<string, number>> {
    return nestedCounts(this.prisma, OF_INSPECTION, inspectionIds, columnIn('status', statuses));
  }

  detectionById(ids: readonly string[]): Promise<(Detection | null)[]> {
    return rowsByIds(ids, (in_) => this.prisma.detection.findMany({ where: { id: { in: in_ } } }));
  }

  async tilesOfImages(imageIds: readonly string[]) {
    const rows = await this.prisma.imageTile.findMany({
      where: { imageId: { in: [...imageIds] } },
      orderBy: [{ imageId: 'asc' }, { index: 'asc' }],
    });
    return imageIds.map((id) => rows.filter((r) => r.imageId === id));
  }

  /** Every detection of each image, oldest first (a handful per image: screen, inspect, per model version). */
  async detectionsOfImages(imageIds: readonly string[]): Promise<Detection[][]> {
    const rows = await this.prisma.detection.findMany({
      where: { imageId: { in: [...imageIds] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return imageIds.map((id) => rows.filter((r) => r.imageId === id));
  }
}
