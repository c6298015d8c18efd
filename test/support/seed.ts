import crypto from 'node:crypto';
import { type PrismaClient } from '../../src/generated/prisma/client';

/** Writes devices with inspections, images and anomalies straight to the database (later issues add the APIs that create them). */
export async function seedFleet(
  prisma: PrismaClient,
  opts: { devices: number; inspectionsPerDevice: number; anomaliesPerInspection: number; prefix?: string },
) {
  const prefix = opts.prefix ?? 'dev';
  const devices = [];
  for (let d = 0; d < opts.devices; d++) {
    const device = await prisma.device.create({
      data: {
        externalId: `${prefix}-${String(d).padStart(5, '0')}`,
        name: `Device ${String(d).padStart(5, '0')}`,
        type: d % 2 ? 'insulator' : 'pole',
        latitude: 52 + d * 0.001,
        longitude: 5 + d * 0.001,
      },
    });
    for (let i = 0; i < opts.inspectionsPerDevice; i++) {
      const inspection = await prisma.inspection.create({
        data: { deviceId: device.id, source: 'DRONE', capturedAt: new Date(Date.UTC(2026, 0, 1 + i)), requestedBy: 'seed' },
      });
      for (let a = 0; a < opts.anomaliesPerInspection; a++) {
        const sha256 = crypto.randomBytes(32).toString('hex');
        const image = await prisma.image.create({
          data: {
            inspectionId: inspection.id,
            objectKey: `images/${sha256}`,
            sha256,
            contentType: 'image/jpeg',
            bytes: 1000,
            status: 'READY',
          },
        });
        await prisma.anomaly.create({
          data: {
            imageId: image.id,
            inspectionId: inspection.id,
            deviceId: device.id,
            type: 'missing-cap',
            confidence: (a + 1) / (opts.anomaliesPerInspection + 1),
            boxX: 0.1,
            boxY: 0.1,
            boxWidth: 0.2,
            boxHeight: 0.2,
            source: 'MODEL',
          },
        });
      }
    }
    devices.push(device);
  }
  return devices;
}

/** A READY image row of the inspection (a random sha256, no stored bytes): what an anomaly needs to hang on. */
export function storedImage(prisma: PrismaClient, inspectionId: string) {
  const sha256 = crypto.randomBytes(32).toString('hex');
  return prisma.image.create({
    data: { inspectionId, objectKey: `images/${sha256}`, sha256, contentType: 'image/jpeg', bytes: 1, status: 'READY' },
  });
}
