import { injectable } from 'tsyringe';
import { ModelVersionQueries } from '../models/training.service';
import { DatasetService } from '../datasets/dataset.service';
import { ReviewQueue } from '../reviews/review-queue.service';
import { WorkflowRunService } from '../workflows/workflow-run.service';
import { ApiKeyService } from '../auth/api-key.service';
import { AnomalyService } from '../anomalies/anomaly.service';
import { type GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { ADMIN_ONLY, ANY_ROLE, READ_FLEET, type Role } from '../auth/roles';
import { forbidden } from '../common/errors';
import { type NodeType, parseGlobalId, toGlobalId } from '../common/global-id';
import { READS } from './projection';
import { type Context } from './context';
import { Node } from './node.type';

// node(id:) must not show a caller what the typed queries would not.
const READERS: Record<NodeType, Role[]> = {
  Device: READ_FLEET,
  Inspection: READ_FLEET,
  Image: READ_FLEET,
  Detection: READ_FLEET,
  Anomaly: READ_FLEET,
  ApiKey: ADMIN_ONLY,
  Survey: READ_FLEET,
  WorkflowRun: READ_FLEET,
  ReviewTask: READ_FLEET,
  Dataset: READ_FLEET,
  DatasetEntry: READ_FLEET,
  ModelVersion: READ_FLEET,
  ModelDeployment: READ_FLEET,
};

@injectable()
@Resolver(() => Node)
export class NodeResolver {
  constructor(
    private readonly anomalyService: AnomalyService,
    private readonly apiKeyService: ApiKeyService,
    private readonly workflowRunService: WorkflowRunService,
    private readonly queue: ReviewQueue,
    private readonly datasetService: DatasetService,
    private readonly modelVersionQueries: ModelVersionQueries,
  ) {}

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => ID, { description: 'Opaque global id.' })
  id(@Root() root: { id: string }, @Info() info: GraphQLResolveInfo): string {
    return toGlobalId(info.parentType.name as NodeType, root.id);
  }

  @Authorized(ANY_ROLE)
  @Query(() => Node, { nullable: true, description: 'Any object by its global id; null when it does not exist.' })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<object | null> {
    const parsed = parseGlobalId(id);
    if (!parsed) return null;
    if (!READERS[parsed.type].includes(ctx.caller!.role)) {
      throw forbidden(`a ${ctx.caller!.role} key cannot read ${parsed.type} objects`);
    }
    const l = ctx.loaders;
    const loaders: Record<NodeType, () => Promise<object | null>> = {
      Device: () => l.device.load(parsed.id),
      Inspection: () => l.inspection.load(parsed.id),
      Image: () => l.image.load(parsed.id),
      Detection: () => l.detection.load(parsed.id),
      Anomaly: () => this.anomalyService.get(parsed.id),
      ApiKey: () => this.apiKeyService.get(parsed.id),
      Survey: () => l.survey.load(parsed.id),
      WorkflowRun: () => this.workflowRunService.get(parsed.id),
      ReviewTask: () => this.queue.get(parsed.id),
      Dataset: async () => (await this.datasetService.byIds([parsed.id]))[0] ?? null,
      DatasetEntry: () => this.datasetService.entry(parsed.id),
      ModelVersion: async () => (await this.modelVersionQueries.byIds([parsed.id]))[0] ?? null,
      ModelDeployment: () => this.modelVersionQueries.deployment(parsed.id),
    };
    const row = await loaders[parsed.type]();
    return row && { ...row, __typename: parsed.type };
  }
}
