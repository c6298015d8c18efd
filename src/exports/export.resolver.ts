import { injectable } from 'tsyringe';
import { ExportService } from './export.service';
import { Arg, Authorized, Mutation, Resolver } from 'type-graphql';
import { READ_REPAIRS } from '../auth/roles';
import { CreateExportInput } from './export.input';
import { ExportLinkType } from './export.type';

@injectable()
@Resolver()
export class ExportResolver {
  constructor(private readonly exportService: ExportService) {}

  @Authorized(READ_REPAIRS)
  @Mutation(() => ExportLinkType, {
    description:
      'A short-lived signed link that streams devices (GeoJSON, KML), defects or work orders (CSV), filtered; the file is made as it is downloaded.',
  })
  createExport(@Arg('input', () => CreateExportInput) input: CreateExportInput): ExportLinkType {
    return this.exportService.createLink(input.kind, { ...input.filter });
  }
}
