/** Largest JSON line Lookout keeps as one dataset entry (the API's DatasetEntry: 8192 characters). */
export const MAX_MANIFEST_LINE_BYTES = 8 * 1024;
