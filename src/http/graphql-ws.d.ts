// graphql-ws declares its subpaths in package.json "exports", which moduleResolution "node" does not read.
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
