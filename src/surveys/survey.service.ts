import { type Image, type Prisma, type PrismaClient, type Survey } from '../generated/prisma/client';
import { DeviceMatch, ImageStatus, type InspectionSource } from '../generated/prisma/enums';
import { conflict, notFound } from '../common/errors';
import { type Connection } from '../common/pagination/connection.type';
import { byId, type Ordering, type PageLimits, paginate, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { rowsByIds } from '../common/pagination/batch';
import { createOnce } from '../db/prisma-errors';
import { type DeviceService } from '../devices/device.service';
import { DeviceStatus } from '../devices/device.type';
import { IMAGE_ORDER } from '../images/image.service';
import { type InspectionService } from '../inspections/inspection.service';

export { DeviceMatch };

const SURVEY_ORDER: Ordering = listOrdering('Survey', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);
/** Matches that need a person: listed by unassignedImages, fixed by assignImage. */
export const UNASSIGNED: DeviceMatch[] = [DeviceMatch.NO_GPS, DeviceMatch.OUT_OF_RANGE, DeviceMatch.AMBIGUOUS];
// Camera clocks can be anything; an inspection's capture time must be plausible.
const EARLIEST_CAPTURE = new Date('1990-01-01T00:00:00Z');

export interface GpsMatchOptions {
  radiusM: number;
  ambiguityM: number;
}

export type MatchVerdict =
  | { match: typeof DeviceMatch.MATCHED; deviceId: string; distanceM: number }
  | { match: typeof DeviceMatch.OUT_OF_RANGE | typeof DeviceMatch.AMBIGUOUS | typeof DeviceMatch.NO_GPS };

/**
 * The nearest device wins unless the runner-up is less than ambiguityM farther away: GPS on a
 * drone is good to a few metres, so two poles 3 m apart (or a photo taken between two poles)
 * cannot be told apart and a person decides.
 */
export function decideMatch(candidates: { id: string; distanceM: number }[], options: GpsMatchOptions): MatchVerdict {
  const [first, second] = candidates.filter((c) => c.distanceM <= options.radiusM);
  if (!first) return { match: DeviceMatch.OUT_OF_RANGE };
  if (second && second.distanceM - first.distanceM < options.ambiguityM) return { match: DeviceMatch.AMBIGUOUS };
  return { match: DeviceMatch.MATCHED, deviceId: first.id, distanceM: first.distanceM };
}

export interface CreateSurveyInput {
  name: string;
  source: InspectionSource;
  requestedBy: string;
  idempotencyKey?: string | null;
}

/** Surveys: photographs taken over many devices, each placed into an inspection of the device it shows. */
export class SurveyService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly devices: DeviceService,
    private readonly inspections: InspectionService,
    private readonly limits: PageLimits,
    private readonly gps: GpsMatchOptions,
  ) {}

  create(input: CreateSurveyInput): Promise<Survey> {
    const key = input.idempotencyKey;
    return createOnce(
      key,
      () => this.prisma.survey.findUnique({ where: { idempotencyKey: key! } }),
      () => this.prisma.survey.create({ data: input }),
    );
  }

  async get(id: string): Promise<Survey> {
    const row = await this.prisma.survey.findUnique({ where: { id } });
    if (!row) throw notFound('Survey', id);
    return row;
  }

  byIds(ids: readonly string[]): Promise<(Survey | null)[]> {
    return rowsByIds(ids, (in_) => this.prisma.survey.findMany({ where: { id: { in: in_ } } }));
  }

  list(page: PageArgs): Promise<Connection<Survey>> {
    return paginate({
      page,
      ordering: SURVEY_ORDER,
      limits: this.limits,
      where: {},
      find: (q) => this.prisma.survey.findMany(q),
      count: (w) => this.prisma.survey.count({ where: w }),
    });
  }

  /** How many images of each survey have each match outcome. */
  async matchCounts(surveyId: string): Promise<Record<DeviceMatch, number>> {
    const groups = await this.prisma.image.groupBy({ by: ['deviceMatch'], where: { surveyId }, _count: { _all: true } });
    const counts = Object.fromEntries(Object.values(DeviceMatch).map((m) => [m, 0])) as Record<DeviceMatch, number>;
    for (const g of groups) if (g.deviceMatch) counts[g.deviceMatch] = g._count._all;
    return counts;
  }

  /** Survey images that need a person to choose their device, oldest first. */
  unassigned(filter: { surveyId?: string; matches?: DeviceMatch[] }, page: PageArgs): Promise<Connection<Image>> {
    const matches = filter.matches?.length ? filter.matches.filter((m) => UNASSIGNED.includes(m)) : UNASSIGNED;
    const where: Prisma.ImageWhereInput = { surveyId: filter.surveyId, inspectionId: null, deviceMatch: { in: matches } };
    return paginate({
      page,
      ordering: IMAGE_ORDER,
      limits: this.limits,
      where,
      find: (q) => this.prisma.image.findMany(q),
      count: (w) => this.prisma.image.count({ where: w }),
    });
  }

  /** Where a READY survey image belongs, by its GPS position. */
  async matchByGps(image: Pick<Image, 'latitude' | 'longitude'>): Promise<MatchVerdict> {
    if (image.latitude === null || image.longitude === null) return { match: DeviceMatch.NO_GPS };
    const near = await this.devices.nearestActive(
      { latitude: image.latitude, longitude: image.longitude, radiusKm: this.gps.radiusM / 1000 },
      2,
    );
    return decideMatch(
      near.map((n) => ({ id: n.id, distanceM: n.distanceKm * 1000 })),
      this.gps,
    );
  }

  /** Puts a survey image that just became READY into an inspection of its device, or leaves it for a person. Repeating is harmless. */
  async place(image: Image): Promise<Image> {
    if (!image.surveyId || image.inspectionId || image.status !== ImageStatus.READY) return image;
    const verdict = await this.matchByGps(image);
    if (verdict.match !== DeviceMatch.MATCHED) {
      return this.prisma.image.update({ where: { id: image.id }, data: { deviceMatch: verdict.match, matchDistanceM: null } });
    }
    return this.moveTo(image, verdict.deviceId, DeviceMatch.MATCHED, verdict.distanceM);
  }

  /** A person's choice of device for a survey image: unmatched, ambiguous, or matched to the wrong device. */
  async assign(imageId: string, deviceId: string): Promise<Image> {
    const image = await this.prisma.image.findUnique({ where: { id: imageId } });
    if (!image) throw notFound('Image', imageId);
    if (!image.surveyId)
      throw conflict('imageId', `image ${imageId} was uploaded into an inspection, not a survey; its device is that inspection's`);
    if (image.status !== ImageStatus.READY)
      throw conflict('imageId', `image ${imageId} is ${image.status}; only READY images can be assigned`);
    const device = await this.devices.get(deviceId);
    if (device.status === DeviceStatus.DECOMMISSIONED)
      throw conflict('deviceId', `device ${deviceId} is decommissioned; it takes no new images`);
    if (image.inspectionId) {
      const current = await this.prisma.inspection.findUniqueOrThrow({ where: { id: image.inspectionId } });
      if (current.deviceId === deviceId)
        return this.prisma.image.update({ where: { id: image.id }, data: { deviceMatch: DeviceMatch.ASSIGNED } });
      if (await this.prisma.anomaly.count({ where: { imageId } })) {
        throw conflict('imageId', `image ${imageId} already has anomalies on device ${current.deviceId}; it can no longer move`);
      }
    }
    return this.moveTo(image, deviceId, DeviceMatch.ASSIGNED, null);
  }

  private async moveTo(image: Image, deviceId: string, match: DeviceMatch, distanceM: number | null): Promise<Image> {
    const survey = await this.get(image.surveyId!);
    const taken =
      image.capturedAt && image.capturedAt >= EARLIEST_CAPTURE && image.capturedAt.getTime() <= Date.now()
        ? image.capturedAt
        : survey.createdAt;
    // One inspection per (device, survey): the key makes concurrent placements find the same one.
    const inspection = await this.inspections.create({
      deviceId,
      source: survey.source,
      capturedAt: taken,
      requestedBy: survey.requestedBy,
      notes: `survey "${survey.name}"`,
      idempotencyKey: `survey:${survey.id}`,
    });
    return this.prisma.image.update({
      where: { id: image.id },
      data: { inspectionId: inspection.id, deviceMatch: match, matchDistanceM: distanceM },
    });
  }
}
