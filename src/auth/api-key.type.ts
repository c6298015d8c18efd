import { Field, ID, ObjectType } from 'type-graphql';
import { Node } from '../graphql/node.type';
import { Role } from './roles';

@ObjectType('ApiKey', { implements: Node, description: 'A credential for the API. The secret itself is shown once, when created.' })
export class ApiKeyType extends Node {
  @Field()
  name: string;

  @Field(() => Role)
  role: Role;

  @Field({ description: 'The first characters of the secret, to tell keys apart.' })
  prefix: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;
}

@ObjectType()
export class CreateApiKeyPayload {
  @Field(() => ApiKeyType)
  apiKey: ApiKeyType;

  @Field({ description: 'The secret to send as `Authorization: Bearer <secret>`. It is not stored and cannot be shown again.' })
  secret: string;
}

@ObjectType({ description: 'The API key making this request.' })
export class Viewer {
  @Field(() => ID)
  apiKeyId: string;

  @Field()
  name: string;

  @Field(() => Role)
  role: Role;
}
