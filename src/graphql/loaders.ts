import DataLoader from 'dataloader';
import { type FieldNode, type GraphQLResolveInfo } from 'graphql';
import { type Anomaly, type Device, type Image, type Inspection } from '../generated/prisma/client';
import { type AnomalyParent, type AnomalyReplayFilter } from '../anomalies/anomaly.service';
import { type AnomalyStatus } from '../anomalies/anomaly.type';
import { type ImageStatus } from '../images/image.type';
import { type AnomalyService } from '../anomalies/anomaly.service';
import { type CostService } from '../costs/cost.service';
import { type DatasetService } from '../datasets/dataset.service';
import { type DeviceService } from '../devices/device.service';
import { type ImageService } from '../images/image.service';
import { type InspectionService } from '../inspections/inspection.service';
import { type ReviewQueue } from '../reviews/review-queue.service';
import { type SurveyService } from '../surveys/survey.service';
import { type WorkflowRunService } from '../workflows/workflow-run.service';
import { type DefectService } from '../repairs/defect.service';
import { type WorkOrderService } from '../repairs/work-order.service';
import { type Connection } from '../common/pagination/connection.type';
import { type Ordering, type PageLimits, type PageRequest, pageRequest, toConnection } from '../common/pagination/keyset';
import { type NestedList } from '../common/pagination/nested';
import { type ChildRead, type OneRead, type TreeRead } from '../common/pagination/tree';
import { type PageArgs } from '../common/pagination/page.args';
import { ANOMALY_ORDER, anomaliesOfParents } from '../anomalies/anomaly.service';
import { queryTimeout } from '../common/errors';
import { IMAGE_ORDER, imagesOfInspections } from '../images/image.service';
import { INSPECTION_ORDER, INSPECTIONS_OF_DEVICE } from '../inspections/inspection.service';

const pageKey = (p: PageArgs) => `${p.first ?? ''}|${p.after ?? ''}|${p.last ?? ''}|${p.before ?? ''}`;
/** Reads of different fields batch apart: each batch's rows hold only what its fields read. */
const fieldsKey = (fields?: readonly string[]) => (fields ? fields.join(',') : '*');

/** The services whose batch reads the loaders call. */
export interface LoaderServices {
  anomalies: AnomalyService;
  costs: CostService;
  datasets: DatasetService;
  devices: DeviceService;
  images: ImageService;
  inspections: InspectionService;
  reviewQueue: ReviewQueue;
  surveys: SurveyService;
  workflowRuns: WorkflowRunService;
  defects: DefectService;
  workOrders: WorkOrderService;
}

/** One set per request: every list field below a list batches into a constant number of statements. */
export class Loaders {
  private readonly memo = new Map<string, DataLoader<string, unknown>>();

  constructor(
    private readonly services: LoaderServices,
    private readonly limits: PageLimits,
    /** Epoch ms after which no further batch is read: the request's execution deadline (QUERY_TIMEOUT_MS). */
    private readonly deadline: { at: number; ms: number } | null = null,
  ) {}

  /** A new set with nothing cached and no deadline: a subscription's loaders for its next event. */
  fresh(): Loaders {
    return new Loaders(this.services, this.limits);
  }

  /** Not a batch read: what a subscription resuming from `since` missed (its `subscribe` runs outside any resolver, with only the context). */
  anomaliesChangedSince(since: Date, filter: AnomalyReplayFilter, limit: number): Promise<Anomaly[]> {
    return this.services.anomalies.changedSince(since, filter, limit);
  }

  private get<V>(key: string, batch: (ids: readonly string[]) => Promise<ArrayLike<V | Error>>): DataLoader<string, V> {
    let loader = this.memo.get(key);
    if (!loader) {
      // Read at dispatch: the loaders created as fields exist before the constructor has stored the deadline.
      const checked = (ids: readonly string[]) =>
        this.deadline && Date.now() > this.deadline.at ? Promise.reject(queryTimeout(this.deadline.ms)) : batch(ids);
      loader = new DataLoader<string, V>(checked, { maxBatchSize: 500 }) as DataLoader<string, unknown>;
      this.memo.set(key, loader);
    }
    return loader as DataLoader<string, V>;
  }

  private counts(key: string, count: (ids: readonly string[]) => Promise<Map<string, number>>) {
    return this.get<number>(`${key}#count`, async (ids) => {
      const counts = await count(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    });
  }

  private pages<T>(
    key: string,
    page: PageArgs,
    ordering: Ordering,
    load: (ids: readonly string[], req: ReturnType<typeof pageRequest>, count: (id: string) => Promise<number>) => Promise<Connection<T>[]>,
    count: (ids: readonly string[]) => Promise<Map<string, number>>,
    fields?: readonly string[],
  ): DataLoader<string, Connection<T>> {
    // Validate before batching so a bad argument fails the field, not the whole batch.
    const req = pageRequest(page, ordering, this.limits);
    const counts = this.counts(key, count);
    const loader = this.get(`${key}@${pageKey(page)}@${fieldsKey(fields)}`, (ids) => load(ids, req, (id) => counts.load(id)));
    // What childRead needs to put pages read elsewhere into this loader as its own batch would have made them.
    this.pageLoaders.set(loader as DataLoader<string, unknown>, { req, ordering, counts });
    return loader;
  }

  private readonly byField = new Map<FieldNode, unknown>();

  /**
   * The loader a field's resolver asks for, made once per field of the query instead of once per row: within a
   * request a field node's arguments and selection are fixed (a field merged from several nodes is made each time).
   */
  forField<T>(info: GraphQLResolveInfo, make: () => T): T {
    if (info.fieldNodes.length !== 1) return make();
    const node = info.fieldNodes[0];
    let made = this.byField.get(node) as T | undefined;
    if (made === undefined) {
      made = make();
      this.byField.set(node, made);
    }
    return made;
  }

  private readonly pageLoaders = new WeakMap<
    DataLoader<string, unknown>,
    { req: PageRequest; ordering: Ordering; counts: DataLoader<string, number> }
  >();

  /**
   * A list field below a list (`Device.inspections`, …) read in its parents' statement (src/common/pagination/tree.ts):
   * each parent's page goes into the loader the field's resolver asks, which then finds it there instead of reading it.
   * `field` is `<Type>.<field>`, `args` its argument values. Undefined for a list it has no such read for, or for
   * arguments the resolver will refuse (it says why).
   */
  childRead(
    field: string,
    args: Record<string, unknown>,
    fields: readonly string[] | undefined,
    children: readonly TreeRead[],
  ): ChildRead | undefined {
    const page = args as PageArgs;
    const statuses = (args.status ?? undefined) as never;
    const lists: Record<string, () => [DataLoader<string, unknown>, NestedList]> = {
      'Device.inspections': () => [this.inspectionsOfDevice(page, fields), INSPECTIONS_OF_DEVICE],
      'Device.anomalies': () => [this.anomaliesOf('device', page, statuses, fields), anomaliesOfParents('device', statuses)],
      'Inspection.anomalies': () => [this.anomaliesOf('inspection', page, undefined, fields), anomaliesOfParents('inspection')],
      'Inspection.images': () => [this.imagesOfInspection(page, statuses, fields), imagesOfInspections(statuses)],
      'Image.anomalies': () => [this.anomaliesOf('image', page, undefined, fields), anomaliesOfParents('image')],
    };
    let made: [DataLoader<string, unknown>, NestedList] | undefined;
    try {
      made = lists[field]?.();
    } catch {
      return undefined;
    }
    const meta = made && this.pageLoaders.get(made[0]);
    if (!made || !meta) return undefined;
    const [loader, list] = made;
    const { req, ordering, counts } = meta;
    return {
      ...list,
      req,
      fields,
      children,
      receive: (byParent) => {
        for (const [id, rows] of byParent)
          loader.prime(
            id,
            toConnection(rows, req, ordering, () => counts.load(id)),
          );
      },
    };
  }

  /**
   * A field that returns the row its parent points at (`Inspection.device`), read in the parents' statement: each row
   * goes into the loader the field's resolver asks. Undefined for a field it has no such read for.
   */
  oneRead(field: string, fields: readonly string[] | undefined): OneRead | undefined {
    if (field !== 'Inspection.device') return undefined;
    const loader = this.deviceReading(fields);
    return {
      table: 'devices',
      foreignKey: 'device_id',
      fields,
      receive: (rows) => {
        for (const row of rows) loader.prime(row.id as string, row as unknown as Device);
      },
    };
  }

  device = this.get<Device | null>('Device', (ids) => this.services.devices.byIds(ids));

  /** Devices by id with only the fields a query reads (src/graphql/projection.ts), for fields that return a device; `device` reads whole rows. */
  deviceReading(fields: readonly string[] | undefined): DataLoader<string, Device | null> {
    if (!fields) return this.device;
    return this.get<Device | null>(`Device@${fieldsKey(fields)}`, (ids) => this.services.devices.byIds(ids, fields));
  }
  inspection = this.get<Inspection | null>('Inspection', (ids) => this.services.inspections.byIds(ids));
  survey = this.get('Survey', (ids) => this.services.surveys.byIds(ids));
  image = this.get<Image | null>('Image', (ids) => this.services.images.byIds(ids));
  detection = this.get('Detection', (ids) => this.services.images.detectionById(ids));
  detectionsOfImage = this.get('Image.detections', (ids) => this.services.images.detectionsOfImages(ids));
  tilesOfImage = this.get('Image.tiles', (ids) => this.services.images.tilesOfImages(ids));
  workflowRunsOfInspection = this.get('Inspection.workflowRuns', async (ids) => {
    const runs = await this.services.workflowRuns.ofInspections(ids);
    return ids.map((id) => runs.filter((r) => r.inspectionId === id));
  });
  reviewTasksOfInspection = this.get('Inspection.reviewTasks', async (ids) => {
    const tasks = await this.services.reviewQueue.ofInspections(ids);
    return ids.map((id) => tasks.filter((t) => t.inspectionId === id));
  });
  answersOfTask = this.get('ReviewTask.answers', async (ids) => {
    const answers = await this.services.reviewQueue.answersOf(ids);
    return ids.map((id) => answers.filter((a) => a.taskId === id));
  });
  datasetCounts = this.get('Dataset.counts', async (ids) => {
    const counts = await this.services.datasets.counts(ids);
    return ids.map((id) => counts.get(id)!);
  });
  costOfInspection = this.get('Inspection.cost', async (ids) => {
    const costs = await this.services.costs.ofInspections(ids);
    return ids.map((id) => costs.get(id)!);
  });
  defect = this.get('Defect', (ids) => this.services.defects.byIds(ids));
  workOrdersOfDefect = this.get('Defect.workOrders', (ids) => this.services.defects.workOrdersOf(ids));
  defectsOfWorkOrder = this.get('WorkOrder.defects', (ids) => this.services.workOrders.defectsOf(ids));
  transitionsOfWorkOrder = this.get('WorkOrder.transitions', (ids) => this.services.workOrders.transitionsOf(ids));
  workflowRunProgress = this.counts('WorkflowRun.progress', (ids) => this.services.workflowRuns.progress(ids));

  /** `fields`: what the query reads of each row (src/graphql/projection.ts), for this and the other pages below. */
  inspectionsOfDevice(page: PageArgs, fields?: readonly string[]) {
    const s = this.services.inspections;
    return this.pages(
      'Device.inspections',
      page,
      INSPECTION_ORDER,
      (ids, req, c) => s.pagesOfDevices(ids, req, c, fields),
      (ids) => s.countsOfDevices(ids),
      fields,
    );
  }

  imagesOfInspection(page: PageArgs, statuses?: ImageStatus[], fields?: readonly string[]) {
    const s = this.services.images;
    const key = `Inspection.images[${statuses?.join(',') ?? ''}]`;
    return this.pages(
      key,
      page,
      IMAGE_ORDER,
      (ids, req, c) => s.pagesOfInspections(ids, req, statuses, c, fields),
      (ids) => s.countsOfInspections(ids, statuses),
      fields,
    );
  }

  imageCount() {
    return this.counts('Inspection.images[]', (ids) => this.services.images.countsOfInspections(ids));
  }

  anomaliesOf(
    parent: AnomalyParent,
    page: PageArgs,
    statuses?: AnomalyStatus[],
    fields?: readonly string[],
  ): DataLoader<string, Connection<Anomaly>> {
    const s = this.services.anomalies;
    const key = `${parent}.anomalies[${statuses?.join(',') ?? ''}]`;
    return this.pages(
      key,
      page,
      ANOMALY_ORDER,
      (ids, req, c) => s.pagesOf(parent, ids, req, statuses, c, fields),
      (ids) => s.countsOf(parent, ids, statuses),
      fields,
    );
  }

  openAnomalyCount(statuses: AnomalyStatus[]) {
    return this.counts(`device.openAnomalies[${statuses.join(',')}]`, (ids) => this.services.anomalies.countsOf('device', ids, statuses));
  }
}
