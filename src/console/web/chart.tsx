import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

// A uPlot line chart sized to its box; `label` names it for screen readers, and a table beside it carries the figures.
export interface Series {
  label: string;
  stroke: string;
  points?: boolean;
  /** Draw a line across missing points. */
  spanGaps?: boolean;
}

export function Chart({
  label,
  x,
  ys,
  series,
  height = 220,
  xTime = false,
  unit = false,
  axes = ['', ''],
  testid,
}: {
  label: string;
  x: number[];
  ys: (number | null)[][];
  series: Series[];
  height?: number;
  xTime?: boolean;
  /** Both axes run from 0 to 1 (ROC and PR space). */
  unit?: boolean;
  /** Names of the x and y axes. */
  axes?: [string, string];
  testid?: string;
}) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = holder.current!;
    const width = Math.max(260, Math.min(640, el.clientWidth || 480));
    const plot = new uPlot(
      {
        width,
        height,
        scales: unit ? { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } } : { x: { time: xTime } },
        legend: { show: true },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            spanGaps: s.spanGaps,
            points: { show: s.points ?? x.length < 30, size: 8 },
          })),
        ],
        axes: [
          { stroke: '#24292f', label: axes[0] || undefined },
          { stroke: '#24292f', label: axes[1] || undefined },
        ],
      },
      [x, ...ys] as uPlot.AlignedData,
      el,
    );
    return () => plot.destroy();
  }, [x, ys, series, height, xTime, unit, axes[0], axes[1]]);
  return <div ref={holder} class="chart" role="img" aria-label={label} data-testid={testid} />;
}
