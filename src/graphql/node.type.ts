import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType({
  description: 'An object with a globally unique, opaque id (Relay).',
  // node(id:) tags what it loads with the GraphQL type name.
  resolveType: (value: { __typename?: string }) => value.__typename,
})
export abstract class Node {
  @Field(() => ID)
  id: string;
}
