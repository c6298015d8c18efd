// @ts-check
// vigil's GraphQL API over fetch, same origin only (the page's CSP allows nothing else).

const TASK_FIELDS = `id reason status uncertainty deviceType imageUrl imageWidth imageHeight claimedUntil
    modelOutput { detector modelVersion isAnomalous confidence
      regions { type confidence box { x y width height } }
      heatmaps { url frame { x y width height } } }`;
export const Q_SIGN_IN = `query ReviewSignIn { viewer { name role } reviewSettings { anomalyTypes leaseSeconds requiredAnswers humanReview } reviewStats { pending mineToday } }`;
export const Q_STATS = `query ReviewStats { reviewStats { pending mineToday } }`;
export const M_CLAIM = `mutation ClaimNextReview($skip: [ID!]) { claimNextReview(skip: $skip) { ${TASK_FIELDS} } }`;
export const M_SUBMIT = `mutation SubmitReview($taskId: ID!, $verdict: ReviewVerdict!, $regions: [ReviewRegionInput!], $comment: String) {
    submitReview(taskId: $taskId, verdict: $verdict, regions: $regions, comment: $comment) { id status } }`;
export const M_RELEASE = `mutation ReleaseReview($taskId: ID!) { releaseReview(taskId: $taskId) { id status } }`;

/** A refusal by the API (or the network), with the GraphQL error code when there is one. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {string | null | undefined} [code]
   */
  constructor(message, code) {
    super(message);
    /** @type {string | null} */
    this.code = code || null;
  }
}

/**
 * @typedef {object} GraphQLResponse
 * @property {unknown} [data]
 * @property {{ message: string, extensions?: { code?: string } }[]} [errors]
 */

/**
 * Runs one GraphQL operation with the key as bearer token; throws an ApiError for any refusal.
 * @template T  the shape of `data`
 * @param {string} query
 * @param {Record<string, unknown>} variables
 * @param {string | null} key
 * @returns {Promise<T>}
 */
export async function gql(query, variables, key) {
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`the server could not be reached (${err instanceof Error ? err.message : err})`, 'NETWORK_ERROR');
  }
  /** @type {GraphQLResponse} */
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`HTTP ${res.status} ${res.statusText}`, `HTTP_${res.status}`);
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.message, first.extensions?.code);
  }
  if (!res.ok) throw new ApiError(`HTTP ${res.status} ${res.statusText}`, `HTTP_${res.status}`);
  return /** @type {T} */ (body.data);
}

/**
 * Gives the task back while the page goes away: a keepalive request nobody waits for.
 * @param {string} taskId
 * @param {string} key
 */
export function releaseOnExit(taskId, key) {
  fetch('/graphql', {
    method: 'POST',
    keepalive: true,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: M_RELEASE, variables: { taskId } }),
  }).catch(() => {});
}

/**
 * "message [CODE]" for an ApiError, the message (or the value) for anything else.
 * @param {unknown} err
 * @returns {string}
 */
export function describeError(err) {
  if (err instanceof ApiError && err.code) return `${err.message} [${err.code}]`;
  return String((err instanceof Error && err.message) || err);
}

/**
 * The code of an ApiError, or null.
 * @param {unknown} err
 */
export const errorCode = (err) => (err instanceof ApiError ? err.code : null);

// vigil signs /objects/<token> links with its configured address; the page may be reached under another
// name (localhost, a proxy), and the CSP allows this origin only.
/**
 * @param {string} url
 * @returns {string}
 */
export function sameOrigin(url) {
  try {
    const u = new URL(url, location.href);
    if (u.origin !== location.origin && /^\/objects\/[^/]+$/.test(u.pathname) && !u.search) return u.pathname;
    return u.href;
  } catch {
    return url;
  }
}
