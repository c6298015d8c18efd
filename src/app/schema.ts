import 'reflect-metadata';
import { ReviewResolver } from '../reviews/review.resolver';
import { DatasetEntryResolver, DatasetResolver } from '../datasets/dataset.resolver';
import { ActiveModelResolver, ModelDeploymentResolver, ModelHealthResolver, ModelVersionResolver } from '../models/model.resolver';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import {
  type BuildSchemaOptions,
  buildSchemaSync,
  type ContainerType,
  getMetadataStorage,
  type NonEmptyArray,
  type PubSub,
} from 'type-graphql';
import { container as rootContainer } from 'tsyringe';
import { type Services } from './services';
import { AnomalyResolver } from '../anomalies/anomaly.resolver';
import { ApiKeyResolver } from '../auth/api-key.resolver';
import { authChecker } from '../graphql/auth-checker';
import { refuseNulInArguments } from '../graphql/nul-guard';
import { readPlainFieldsDirectly } from '../graphql/plain-fields';
import { callFieldResolversDirectly } from '../graphql/direct-resolvers';
import { DetectionResolver } from '../detections/detection.resolver';
import { DeviceResolver } from '../devices/device.resolver';
import { SubscriptionResolver } from '../events/subscription.resolver';
import { ImageResolver } from '../images/image.resolver';
import { InspectionResolver } from '../inspections/inspection.resolver';
import { SurveyResolver } from '../surveys/survey.resolver';
import { UploadResolver } from '../images/upload.resolver';
import { NodeResolver } from '../graphql/node.resolver';
import { CostResolver } from '../costs/cost.resolver';
import { InspectionWorkflowResolver, ReviewTaskFieldsResolver, WorkflowRunResolver } from '../workflows/workflow.resolver';
import { AnomalyDefectResolver, DefectResolver } from '../repairs/defect.resolver';
import { WorkOrderDefectResolver, WorkOrderResolver } from '../repairs/work-order.resolver';
import { RepairRulesResolver } from '../repairs/repair-rules.resolver';
import { WebhookDeliveryResolver, WebhookEndpointResolver } from '../webhooks/webhook.resolver';
import { ExportResolver } from '../exports/export.resolver';
import { ReportResolver } from '../reports/report.resolver';
import { DataLakeResolver } from '../datalake/datalake.resolver';

// biome-ignore lint/complexity/noBannedTypes: type-graphql's own type for resolver classes.
export const RESOLVERS: NonEmptyArray<Function> = [
  NodeResolver,
  DeviceResolver,
  InspectionResolver,
  ImageResolver,
  DetectionResolver,
  AnomalyResolver,
  ApiKeyResolver,
  UploadResolver,
  SurveyResolver,
  SubscriptionResolver,
  InspectionWorkflowResolver,
  WorkflowRunResolver,
  ReviewTaskFieldsResolver,
  CostResolver,
  ReviewResolver,
  DatasetResolver,
  DatasetEntryResolver,
  ModelVersionResolver,
  ModelDeploymentResolver,
  ActiveModelResolver,
  ModelHealthResolver,
  DefectResolver,
  AnomalyDefectResolver,
  WorkOrderResolver,
  WorkOrderDefectResolver,
  RepairRulesResolver,
  WebhookEndpointResolver,
  WebhookDeliveryResolver,
  ExportResolver,
  ReportResolver,
  DataLakeResolver,
];

/** Every query, mutation and subscription must say who may call it; a forgotten @Authorized fails start-up. */
function assertEveryOperationDeclaresRoles() {
  const storage = getMetadataStorage();
  const operations = [...storage.queries, ...storage.mutations, ...storage.subscriptions];
  const missing = operations.filter((op) => !storage.authorizedFields.some((a) => a.target === op.target && a.fieldName === op.methodName));
  if (missing.length > 0) {
    throw new Error(`operations without @Authorized: ${missing.map((m) => m.schemaName).join(', ')}`);
  }
}

// Subscriptions listen to context.events (one bus per app) through their `subscribe` option;
// type-graphql insists on a pubSub when there are subscriptions, so it gets one that refuses use.
const NO_SCHEMA_PUBSUB: PubSub = {
  publish() {
    throw new Error('publish through context.events');
  },
  subscribe() {
    throw new Error('give @Subscription a `subscribe` option that listens to context.events');
  },
};

/**
 * Resolvers built with this process's services (as in type-graphql's examples/tsyringe): each
 * service instance is registered under its class, each resolver is made once and asks for the
 * services it needs by constructor.
 */
export function resolverContainer(services: Services): ContainerType {
  const container = rootContainer.createChildContainer();
  for (const service of Object.values(services)) container.registerInstance(service.constructor, service);
  for (const resolver of RESOLVERS) container.registerSingleton(resolver as new (...args: never[]) => unknown);
  return { get: (resolver) => container.resolve(resolver as new (...args: never[]) => unknown) };
}

/** The schema; without a container it can be printed and validated, but not executed. */
export function buildVigilSchema(container?: ContainerType): GraphQLSchema {
  assertEveryOperationDeclaresRoles();
  const options: BuildSchemaOptions = {
    resolvers: RESOLVERS,
    container,
    authChecker,
    authMode: 'error',
    pubSub: NO_SCHEMA_PUBSUB,
    validate: { forbidUnknownValues: false },
  };
  const schema = buildSchemaSync(options);
  // Plain fields are read by the default resolver (src/graphql/plain-fields.ts); wrapped ones keep their checks.
  readPlainFieldsDirectly(schema);
  // Field resolvers of the row, context and info alone are called without type-graphql's wrapper (src/graphql/direct-resolvers.ts).
  if (container) callFieldResolversDirectly(schema, container, options);
  return refuseNulInArguments(schema);
}

const HEADER = '# Emitted from the code by `npm run schema:emit`; `npm run schema:check` fails when it differs. Do not edit.\n\n';

/** The schema as committed in graphql/schema.graphql: sorted, so diffs show real changes only. */
export function printVigilSchema(): string {
  return `${HEADER + printSchema(lexicographicSortSchema(buildVigilSchema()))}\n`;
}
