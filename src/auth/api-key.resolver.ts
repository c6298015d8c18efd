import { injectable } from 'tsyringe';
import { ApiKeyService } from './api-key.service';
import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { ConnectionType } from '../common/pagination/connection.type';
import { type Context } from '../graphql/context';
import { ApiKeyType, CreateApiKeyPayload, Viewer } from './api-key.type';
import { ADMIN_ONLY, ANY_ROLE, Role } from './roles';

const ApiKeyConnection = ConnectionType(ApiKeyType, 'ApiKey');

@injectable()
@Resolver(() => ApiKeyType)
export class ApiKeyResolver {
  constructor(private readonly apiKeyService: ApiKeyService) {}

  @Authorized(ANY_ROLE)
  @Query(() => Viewer, { description: 'The API key making this request: how a client learns its role.' })
  viewer(@Ctx() ctx: Context): Viewer {
    const { apiKeyId, name, role } = ctx.caller!;
    return { apiKeyId, name, role };
  }

  @Authorized(ADMIN_ONLY)
  @Query(() => ApiKeyConnection, { description: 'Newest first.' })
  apiKeys(@Args(() => PageArgs, { validate: false }) page: PageArgs) {
    return this.apiKeyService.list(page);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => CreateApiKeyPayload, { description: 'The secret is in the answer and nowhere else: store it now.' })
  createApiKey(@Arg('name') name: string, @Arg('role', () => Role) role: Role) {
    return this.apiKeyService.create(name, role);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ApiKeyType, { description: 'Revoking twice is harmless. The last active ADMIN key cannot be revoked.' })
  revokeApiKey(@Arg('id', () => ID) id: string) {
    return this.apiKeyService.revoke(fromGlobalId('ApiKey', id, 'id'));
  }
}
