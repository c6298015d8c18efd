import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { WebhookDeliveryStatus, WebhookEventType } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';

export { WebhookDeliveryStatus, WebhookEventType };

registerEnumType(WebhookEventType, {
  name: 'WebhookEventType',
  description: 'What a webhook endpoint can listen to; receivers see it as `type`, e.g. "defect.opened".',
  valuesConfig: {
    ANOMALY_DETECTED: { description: 'anomaly.detected: the model found an anomaly.' },
    ANOMALY_CONFIRMED: { description: 'anomaly.confirmed: a reviewer confirmed one (or drew a new one).' },
    DEFECT_OPENED: { description: 'defect.opened: a new problem on a device.' },
    DEFECT_REOPENED: { description: 'defect.reopened: a fixed defect was seen again.' },
    DEFECT_RESOLVED: { description: 'defect.resolved: the next inspection no longer shows it, or an operator resolved it.' },
    WORK_ORDER_CREATED: { description: 'work_order.created: by a person or by the automatic rule.' },
    WORK_ORDER_CHANGED: { description: 'work_order.changed: edited, moved, completed or flagged (data.change says which).' },
    INSPECTION_FINISHED: { description: 'inspection.finished: its run completed or failed.' },
    MODEL_DEPLOYED: { description: 'model.deployed: a model version now serves a device type (deployed or rolled back).' },
    MODEL_DRIFT: { description: 'model.drift: agreement with reviewers fell below MODEL_HEALTH_FLOOR.' },
  },
});
registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  valuesConfig: {
    PENDING: { description: 'Not delivered yet: due now, or waiting for its next attempt.' },
    DELIVERED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'Every attempt failed (WEBHOOK_MAX_ATTEMPTS); redeliverWebhook sends it again.' },
  },
});

@ObjectType('WebhookHost', { description: 'A host webhook endpoints may point at, allowed by an ADMIN.' })
export class WebhookHostType {
  @Field()
  host: string;

  @Field({ description: 'Receivers of this host may be on private or loopback addresses. Link-local and metadata addresses never are.' })
  allowPrivateNetwork: boolean;

  @Field({ description: 'The API key that allowed it.' })
  createdBy: string;

  @Field()
  createdAt: Date;
}

@ObjectType('WebhookEndpoint', { description: 'Where an API key wants events POSTed, signed Standard Webhooks style.' })
export class WebhookEndpointType {
  @Field(() => ID)
  id: string;

  @Field()
  url: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => [WebhookEventType])
  events: WebhookEventType[];

  @Field({ description: 'Disabled endpoints get no new events and send nothing; enable again with updateWebhookEndpoint.' })
  enabled: boolean;

  @Field(() => String, { nullable: true, description: 'Why vigil disabled it.' })
  disabledReason: string | null;

  @Field(() => Int, { description: 'Failed attempts in a row; at WEBHOOK_DISABLE_AFTER the endpoint is disabled.' })
  consecutiveFailures: number;

  @Field(() => ID, { description: 'The API key that registered it (an ApiKey id).' })
  apiKeyId: string;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

@ObjectType('WebhookEndpointSecret', { description: 'An endpoint and its signing secret, shown only now.' })
export class WebhookEndpointSecret {
  @Field(() => WebhookEndpointType)
  endpoint: WebhookEndpointType;

  @Field({ description: 'whsec_… : verify each request with it (README "Webhooks" has the code).' })
  secret: string;
}

@ObjectType('WebhookEvent', { description: 'What happened, as each endpoint receives it.' })
export class WebhookEventObject {
  @Field(() => ID)
  id: string;

  @Field(() => WebhookEventType)
  type: WebhookEventType;

  @Field(() => GraphQLJSONObject, { description: 'The exact JSON body receivers get: {id, type, createdAt, data}.' })
  payload: object;

  @Field()
  createdAt: Date;
}

@ObjectType('WebhookDelivery', { description: 'One event for one endpoint: its attempts so far. webhook-id in the request is this id.' })
export class WebhookDeliveryType {
  @Field(() => ID)
  id: string;

  @Field(() => WebhookDeliveryStatus)
  status: WebhookDeliveryStatus;

  @Field(() => Int)
  attempts: number;

  @Field({ description: 'When it is (or was last) due.' })
  nextAttemptAt: Date;

  @Field(() => Int, { nullable: true, description: "The receiver's last HTTP status." })
  lastStatusCode: number | null;

  @Field(() => String, { nullable: true })
  lastError: string | null;

  @Field(() => Date, { nullable: true })
  lastAttemptAt: Date | null;

  @Field(() => Int, { nullable: true })
  lastDurationMs: number | null;

  @Field(() => Date, { nullable: true })
  deliveredAt: Date | null;

  @Field()
  createdAt: Date;

  @Field(() => WebhookEventObject)
  event: WebhookEventObject;
}

export const WebhookEndpointConnection = ConnectionType(WebhookEndpointType, 'WebhookEndpoint');
export const WebhookDeliveryConnection = ConnectionType(WebhookDeliveryType, 'WebhookDelivery');
