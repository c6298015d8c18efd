import { Field, ObjectType, registerEnumType } from 'type-graphql';

export const ReportFormat = { PDF: 'PDF', HTML: 'HTML' } as const;
export type ReportFormat = (typeof ReportFormat)[keyof typeof ReportFormat];

registerEnumType(ReportFormat, {
  name: 'ReportFormat',
  valuesConfig: {
    PDF: { description: 'An A4 PDF document.' },
    HTML: { description: 'One self-contained HTML page (pictures inlined), the same content as the PDF.' },
  },
});

@ObjectType('ReportLink', {
  description:
    'A signed link to a report. The report is rendered when the link is opened; anyone holding the link can open it until it expires.',
})
export class ReportLinkType {
  @Field({ description: 'GET it (no API key needed) before expiresAt.' })
  url: string;

  @Field({ description: 'After this the link answers 410; ask for a new one.' })
  expiresAt: Date;

  @Field(() => ReportFormat)
  format: ReportFormat;
}
