import { ArrayMaxSize, ArrayMinSize, IsOptional, Length } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { WebhookDeliveryStatus, WebhookEventType } from './webhook.type';

@InputType()
export class CreateWebhookEndpointInput {
  @Field({ description: 'http(s) URL on a host an ADMIN allowed (allowWebhookHost); no user or password in it.' })
  @Length(1, 2000)
  url: string;

  @Field(() => [WebhookEventType])
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  events: WebhookEventType[];

  @Field({ nullable: true })
  @IsOptional()
  @Length(0, 500)
  description?: string;
}

@InputType()
export class UpdateWebhookEndpointInput {
  @Field({ nullable: true })
  @IsOptional()
  @Length(1, 2000)
  url?: string;

  @Field(() => [WebhookEventType], { nullable: true })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  events?: WebhookEventType[];

  @Field({ nullable: true })
  @IsOptional()
  @Length(0, 500)
  description?: string;

  @Field({ nullable: true, description: 'true enables a disabled endpoint again (and clears its failure count).' })
  enabled?: boolean;
}

@InputType()
export class WebhookDeliveryFilter {
  @Field(() => [WebhookDeliveryStatus], { nullable: true })
  status?: WebhookDeliveryStatus[] | null;
}
