/** How detections name a Lookout model: `lookout-for-vision:<project>:<version number>` (no AWS SDK needed to name one). */
export const lookoutVersionName = (project: string, version: string) => `lookout-for-vision:${project}:${version}`;
