import { BarChart } from '@shopify/polaris-viz';
import type { Overview } from '../api-client.ts';

/** Postbacks per day, stacked by how they ended (Polaris Viz). */
/** 2026-03-08 → 03-08 */
const label = (date: string): string => date.slice(5);

export function SeriesChart({ series }: { series: Overview['series'] }) {
  const line = (name: string, color: string, pick: (d: Overview['series'][number]) => number) => ({
    name,
    color,
    data: series.map((d) => ({ key: label(d.date), value: pick(d) })),
  });
  return (
    <div className="ct-chart" aria-label="Postbacks per day">
      <BarChart
        theme="Light"
        type="stacked"
        // bars that grow in are pretty once and wrong in every screenshot taken mid-way
        isAnimated={false}
        data={[
          line('Reported', '#29845a', (d) => d.succeeded),
          line('Refused', '#e51c00', (d) => d.failed),
          line('Dead letters', '#8e1f0b', (d) => d.dead),
          line('Pending', '#8a8a8a', (d) => d.pending),
        ]}
        xAxisOptions={{ labelFormatter: (value) => String(value ?? '') }}
      />
    </div>
  );
}
