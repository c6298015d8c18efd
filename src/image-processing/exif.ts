import exifr from 'exifr';

export interface CaptureFacts {
  capturedAt: Date | null;
  latitude: number | null;
  longitude: number | null;
  altitude: number | null;
  camera: string | null;
}

const NONE: CaptureFacts = { capturedAt: null, latitude: null, longitude: null, altitude: null, camera: null };

/**
 * EXIF times carry no zone unless OffsetTimeOriginal says one; without it they are read as UTC,
 * so the same file gives the same time on every server.
 */
function captureTime(raw: unknown, offset: unknown): Date | null {
  if (typeof raw !== 'string') return null;
  const m = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(raw);
  if (!m) return null;
  const zone = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : 'Z';
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`);
  return Number.isNaN(date.getTime()) ? null : date;
}

const finite = (v: unknown, min: number, max: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : null);

/** What the camera says about when and where: missing or nonsensical values are null, never an error. */
export async function readCaptureFacts(bytes: Buffer): Promise<CaptureFacts> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = await exifr.parse(bytes, { gps: true, reviveValues: false, translateValues: false, pick: undefined });
  } catch {
    return NONE;
  }
  if (!tags) return NONE;
  const gps = await exifr.gps(bytes).catch(() => undefined);
  const altitudeRaw = finite(tags.GPSAltitude, -1000, 100_000);
  const belowSea = tags.GPSAltitudeRef instanceof Uint8Array ? tags.GPSAltitudeRef[0] === 1 : tags.GPSAltitudeRef === 1;
  const latitude = finite(gps?.latitude, -90, 90);
  const longitude = finite(gps?.longitude, -180, 180);
  const camera = [tags.Make, tags.Model]
    .filter((v): v is string => typeof v === 'string' && v.trim() !== '')
    .map((v) => v.trim())
    .join(' ');
  return {
    capturedAt: captureTime(tags.DateTimeOriginal ?? tags.CreateDate ?? tags.DateTime ?? tags.ModifyDate, tags.OffsetTimeOriginal),
    latitude: latitude !== null && longitude !== null ? latitude : null,
    longitude: latitude !== null && longitude !== null ? longitude : null,
    altitude: altitudeRaw === null ? null : belowSea ? -altitudeRaw : altitudeRaw,
    camera: camera ? camera.slice(0, 200) : null,
  };
}
