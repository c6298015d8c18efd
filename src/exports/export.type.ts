import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { ExportKind } from './export-filter';

export { ExportKind };

registerEnumType(ExportKind, {
  name: 'ExportKind',
  valuesConfig: {
    DEVICES_GEOJSON: {
      description:
        'The devices as an RFC 7946 FeatureCollection of Points, with status, open defects and worst severity (application/geo+json).',
    },
    DEVICES_KML: { description: 'The devices as KML Placemarks styled by worst open severity (application/vnd.google-earth.kml+xml).' },
    DEFECTS_CSV: { description: 'One row per defect with its device (text/csv).' },
    WORK_ORDERS_CSV: { description: 'One row per work order with its device and defects (text/csv).' },
  },
});

@ObjectType('ExportLink', { description: 'A signed link that streams an export; GET it before expiresAt, no API key needed.' })
export class ExportLinkType {
  @Field(() => ExportKind)
  kind: ExportKind;

  @Field({ description: 'GET streams the file as an attachment; the link itself is the credential, so share it with care.' })
  url: string;

  @Field({ description: 'A download must start before then (UPLOAD_URL_TTL_SECONDS); one under way runs to its end.' })
  expiresAt: Date;

  @Field({ description: 'The Content-Type the download will have.' })
  contentType: string;
}
