// A2I human loop names: 1–63 characters matching ^[a-z0-9](-*[a-z0-9])*$, unique in the account and region.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const HUMAN_LOOP_NAME = /^[a-z0-9](-*[a-z0-9])*$/;

/** `vigil-<task uuid>` for the first loop of a task, `vigil-<task uuid>-r<attempt>` for each restart. */
export function humanLoopName(taskId: string, attempt: number): string {
  if (!UUID.test(taskId)) throw new Error(`humanLoopName: task id "${taskId}" is not a UUID`);
  if (!Number.isSafeInteger(attempt) || attempt < 0) throw new Error(`humanLoopName: attempt ${attempt} is not a whole number ≥ 0`);
  // UUIDs are case-insensitive, A2I names are lowercase only.
  const name = `vigil-${taskId.toLowerCase()}${attempt === 0 ? '' : `-r${attempt}`}`;
  // 6 + 36 + "-r" + at most 16 digits = 60, so this holds for every safe integer.
  if (name.length > 63 || !HUMAN_LOOP_NAME.test(name)) throw new Error(`humanLoopName: "${name}" is not a valid A2I human loop name`);
  return name;
}
