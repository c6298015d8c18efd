import { injectable } from 'tsyringe';
import { Arg, Authorized, ID, Mutation, Resolver } from 'type-graphql';
import { READ_REPAIRS } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { ReportService } from './report.service';
import { ReportFormat, ReportLinkType } from './report.type';

@injectable()
@Resolver()
export class ReportResolver {
  constructor(private readonly reportService: ReportService) {}

  @Authorized(READ_REPAIRS)
  @Mutation(() => ReportLinkType, {
    description:
      'A short-lived signed link (UPLOAD_URL_TTL_SECONDS) to the report of a finished inspection: device, position, pictures with boxes and heatmaps, anomalies with severity, defects with their history, models with their measured figures, reviewer decisions. CONFLICT while the inspection is PENDING or PROCESSING.',
  })
  createInspectionReport(
    @Arg('inspectionId', () => ID) inspectionId: string,
    @Arg('format', () => ReportFormat, { defaultValue: ReportFormat.PDF }) format: ReportFormat,
  ) {
    return this.reportService.inspectionLink(fromGlobalId('Inspection', inspectionId, 'inspectionId'), format);
  }

  @Authorized(READ_REPAIRS)
  @Mutation(() => ReportLinkType, {
    description:
      'As createInspectionReport, for a survey: a cover page with a summary of every device, then one section per inspection. CONFLICT until every image has arrived and found its device and every inspection has finished.',
  })
  createSurveyReport(
    @Arg('surveyId', () => ID) surveyId: string,
    @Arg('format', () => ReportFormat, { defaultValue: ReportFormat.PDF }) format: ReportFormat,
  ) {
    return this.reportService.surveyLink(fromGlobalId('Survey', surveyId, 'surveyId'), format);
  }
}
