// Imported first by every entry point. graphql-js runs slow development-only checks unless
// NODE_ENV is production when it loads, so production is the default, as in src/config.
process.env.NODE_ENV ??= 'production';
