import { Presets, SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import { type FileResult, type IngestReporter, type IngestSummary, type Outcome } from './ingest';

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

export function describe(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'accepted':
      return outcome.device
        ? `accepted → ${outcome.device}${outcome.distanceM !== null ? ` (${outcome.distanceM.toFixed(0)} m)` : ''}`
        : 'accepted';
    case 'unassigned':
      return `unassigned (${outcome.match})`;
    case 'rejected':
      return `rejected ${outcome.reason}: ${outcome.message}`;
    case 'failed':
      return `failed: ${outcome.message}`;
  }
}

/** Files done, MB, rate and ETA: a live bar on a terminal, one plain line per file otherwise (logs, CI). */
export class ProgressReporter implements IngestReporter {
  private bar: SingleBar | null = null;
  private started = 0;
  private total = { files: 0, bytes: 0 };

  constructor(private readonly out: NodeJS.WriteStream | NodeJS.WritableStream = process.stdout) {}

  private get tty(): boolean {
    return (this.out as NodeJS.WriteStream).isTTY === true;
  }

  start(plan: { target: string; files: number; bytes: number; ignored: number }): void {
    this.started = Date.now();
    this.total = { files: plan.files, bytes: plan.bytes };
    const ignored = plan.ignored ? `; ${plan.ignored} other file${plan.ignored === 1 ? '' : 's'} ignored` : '';
    this.out.write(`ingesting ${plan.files} files (${mb(plan.bytes)} MB) into ${plan.target}${ignored}\n`);
    if (this.tty && plan.files > 0) {
      this.bar = new SingleBar(
        {
          stream: this.out as NodeJS.WriteStream,
          format: '{bar} {percentage}% | {value}/{total} files | {done}/{size} MB | {rate} files/s | ETA {remaining}',
          barsize: 30,
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      this.bar.start(plan.files, 0, { done: '0.0', size: mb(plan.bytes), rate: '0.0', remaining: '?' });
    }
  }

  file(result: FileResult, progress: { files: number; bytes: number }): void {
    const elapsed = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = progress.files / elapsed;
    const eta = duration((this.total.bytes - progress.bytes) / Math.max(1, progress.bytes / elapsed));
    if (this.bar) {
      // Problems are printed above the bar as they happen; the rest are in the summary.
      if (result.outcome.kind === 'rejected' || result.outcome.kind === 'failed')
        this.out.write(`\r\x1b[2K${result.file.name}: ${describe(result.outcome)}\n`);
      this.bar.update(progress.files, { done: mb(progress.bytes), rate: rate.toFixed(1), remaining: eta });
      return;
    }
    const width = String(this.total.files).length;
    const pct = Math.floor((100 * progress.files) / Math.max(1, this.total.files));
    this.out.write(
      `[${String(progress.files).padStart(width)}/${this.total.files}] ${String(pct).padStart(3)}% ${mb(progress.bytes)}/${mb(this.total.bytes)} MB ` +
        `${rate.toFixed(1)} files/s ETA ${eta}  ${result.file.name}: ${result.skipped && result.outcome.kind !== 'failed' ? 'already uploaded, ' : ''}${describe(result.outcome)}\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** The table printed at the end, and every file that did not make it, with why. */
export function renderSummary(summary: IngestSummary, colours = false): string {
  const rows = new Map<string, { files: number; bytes: number }>();
  const add = (label: string, r: FileResult) => {
    const row = rows.get(label) ?? { files: 0, bytes: 0 };
    row.files += 1;
    row.bytes += r.file.bytes;
    rows.set(label, row);
  };
  for (const r of summary.results) {
    const o = r.outcome;
    if (o.kind === 'accepted') add(r.skipped ? 'accepted (uploaded by an earlier run)' : 'accepted', r);
    else if (o.kind === 'unassigned') add(`unassigned: ${o.match}`, r);
    else if (o.kind === 'rejected') add(`rejected: ${o.reason}`, r);
    else add('failed', r);
  }
  const order = (label: string) => ['accepted', 'unassigned', 'rejected', 'failed'].findIndex((k) => label.startsWith(k));
  const table = new Table({
    head: ['outcome', 'files', 'MB'],
    colAligns: ['left', 'right', 'right'],
    style: colours ? {} : { head: [], border: [] },
  });
  for (const [label, row] of [...rows].sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0])))
    table.push([label, row.files, mb(row.bytes)]);
  const total = summary.results.length;
  table.push(['total', total, mb(summary.results.reduce((s, r) => s + r.file.bytes, 0))]);

  const lines = [
    table.toString(),
    `${total} files in ${summary.seconds.toFixed(1)} s (${(total / Math.max(summary.seconds, 0.001)).toFixed(1)} files/s) into ${summary.target}`,
  ];
  if (summary.ignored.length) {
    const some = summary.ignored.slice(0, 5).join(', ');
    lines.push(`${summary.ignored.length} other file(s) ignored (not an image name): ${some}${summary.ignored.length > 5 ? ', …' : ''}`);
  }
  const unassigned = summary.results.filter((r) => r.outcome.kind === 'unassigned').length;
  if (unassigned) lines.push(`${unassigned} image(s) found no device: see unassignedImages and assignImage in the API`);
  const failed = summary.results.filter((r) => r.outcome.kind === 'rejected' || r.outcome.kind === 'failed');
  if (failed.length) {
    lines.push(`${failed.length} file(s) failed:`);
    for (const r of failed) lines.push(`  ${r.file.name}: ${describe(r.outcome)}`);
  }
  return `${lines.join('\n')}\n`;
}
