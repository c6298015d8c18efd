import { injectable } from 'tsyringe';
import { WebhookEndpointService } from './webhook-endpoint.service';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type WebhookDelivery, type WebhookEndpoint } from '../generated/prisma/client';
import { ADMIN_ONLY, MANAGE_WEBHOOKS } from '../auth/roles';
import { fromPlainId, toGlobalId, toPlainId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDeliveryFilter } from './webhook.input';
import {
  WebhookDeliveryConnection,
  WebhookDeliveryType,
  WebhookEndpointConnection,
  WebhookEndpointSecret,
  WebhookEndpointType,
  WebhookHostType,
} from './webhook.type';

const endpointId = (id: string, field = 'id') => fromPlainId('WebhookEndpoint', id, field);

@injectable()
@Resolver(() => WebhookEndpointType)
export class WebhookEndpointResolver {
  constructor(private readonly webhookEndpointService: WebhookEndpointService) {}

  @Authorized(ADMIN_ONLY)
  @Query(() => [WebhookHostType], { description: 'Hosts webhook endpoints may point at.' })
  webhookHosts() {
    return this.webhookEndpointService.hosts();
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => WebhookHostType, {
    description: 'Allows endpoints on a host (a name or an IP address); again to change allowPrivateNetwork.',
  })
  allowWebhookHost(
    @Arg('host') host: string,
    @Ctx() ctx: Context,
    @Arg('allowPrivateNetwork', { defaultValue: false }) allowPrivateNetwork: boolean,
  ) {
    return this.webhookEndpointService.allowHost(ctx.caller!, host, allowPrivateNetwork);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => Boolean, {
    description: 'False when the host was not allowed. Endpoints on it fail their deliveries until it is allowed again.',
  })
  removeWebhookHost(@Arg('host') host: string) {
    return this.webhookEndpointService.removeHost(host);
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Query(() => WebhookEndpointConnection, { description: "Newest first; an ADMIN sees every key's endpoints, an INTEGRATOR its own." })
  webhookEndpoints(@Args(() => PageArgs, { validate: false }) page: PageArgs, @Ctx() ctx: Context) {
    return this.webhookEndpointService.list(ctx.caller!, page);
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Query(() => WebhookEndpointType)
  webhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.webhookEndpointService.get(ctx.caller!, endpointId(id));
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Mutation(() => WebhookEndpointSecret, { description: 'Registers an endpoint for this key; its secret is shown only in this answer.' })
  createWebhookEndpoint(@Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput, @Ctx() ctx: Context) {
    return this.webhookEndpointService.create(ctx.caller!, input);
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Mutation(() => WebhookEndpointType)
  updateWebhookEndpoint(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateWebhookEndpointInput) input: UpdateWebhookEndpointInput,
    @Ctx() ctx: Context,
  ) {
    return this.webhookEndpointService.update(ctx.caller!, endpointId(id), input);
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Mutation(() => WebhookEndpointSecret, { description: 'A new signing secret; the old one stops working at once.' })
  rotateWebhookSecret(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.webhookEndpointService.rotateSecret(ctx.caller!, endpointId(id));
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Mutation(() => Boolean, { description: 'Deletes the endpoint and its delivery log.' })
  deleteWebhookEndpoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.webhookEndpointService.delete(ctx.caller!, endpointId(id));
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Query(() => WebhookDeliveryConnection, { description: 'The delivery log of one endpoint, newest first.' })
  webhookDeliveries(
    @Arg('endpointId', () => ID) id: string,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Arg('filter', () => WebhookDeliveryFilter, { nullable: true }) filter?: WebhookDeliveryFilter,
  ) {
    return this.webhookEndpointService.deliveries(ctx.caller!, endpointId(id, 'endpointId'), filter?.status, page);
  }

  @Authorized(MANAGE_WEBHOOKS)
  @Mutation(() => WebhookDeliveryType, { description: 'Sends a DELIVERED or FAILED delivery again, now, with the same webhook-id.' })
  redeliverWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return this.webhookEndpointService.redeliver(ctx.caller!, fromPlainId('WebhookDelivery', id, 'id'));
  }

  @FieldResolver(() => ID)
  id(@Root() endpoint: WebhookEndpoint) {
    return toPlainId('WebhookEndpoint', endpoint.id);
  }

  @FieldResolver(() => ID)
  apiKeyId(@Root() endpoint: WebhookEndpoint) {
    return toGlobalId('ApiKey', endpoint.apiKeyId);
  }
}

@injectable()
@Resolver(() => WebhookDeliveryType)
export class WebhookDeliveryResolver {
  @FieldResolver(() => ID)
  id(@Root() delivery: WebhookDelivery) {
    return toPlainId('WebhookDelivery', delivery.id);
  }
}
