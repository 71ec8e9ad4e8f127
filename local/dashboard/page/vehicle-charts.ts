// One vehicle's windows over time, from the warehouse: speed and engine temperature with their
// rolling means, and the risk score when a model scored the rows.

import type { VehicleWindowsAnswer } from '../dashboard-api.js';
import { TimeChart } from './time-chart.js';

const WINDOW_COLORS = { '1m': '#2563eb', '5m': '#16a34a', '15m': '#ca8a04', '1h': '#9333ea' } as const;

export class VehicleCharts {
  readonly #title: HTMLElement;
  readonly #span: HTMLElement;
  readonly #speed: TimeChart;
  readonly #temp: TimeChart;
  readonly #other: TimeChart;

  constructor(title: HTMLElement, span: HTMLElement, charts: HTMLElement) {
    this.#title = title;
    this.#span = span;
    const means = (metric: string) =>
      Object.entries(WINDOW_COLORS).map(([w, stroke]) => ({ label: `${metric} mean ${w}`, stroke }));
    this.#speed = new TimeChart(charts, {
      name: 'speed',
      title: 'Speed',
      unit: 'km/h',
      perRow: 3,
      lines: [{ label: 'reading', stroke: '#94a3b8', width: 1 }, ...means('speed')],
    });
    this.#temp = new TimeChart(charts, {
      name: 'temperature',
      title: 'Engine temperature',
      unit: '°C',
      perRow: 3,
      lines: [
        { label: 'reading', stroke: '#94a3b8', width: 1 },
        ...means('temp'),
        { label: 'max 1h', stroke: '#dc2626', dash: [6, 4] },
        { label: 'anomaly threshold', stroke: '#dc2626', width: 1, dash: [2, 3] },
      ],
    });
    this.#other = new TimeChart(charts, {
      name: 'distance-risk',
      title: 'Distance and risk',
      unit: 'km · risk',
      perRow: 3,
      lines: [
        { label: 'km in 1h', stroke: '#0f766e' },
        { label: 'risk score', stroke: '#dc2626' },
      ],
    });
  }

  show(answer: VehicleWindowsAnswer, tempAnomalyC: number): void {
    const s = answer.series;
    this.#title.textContent = `Vehicle ${answer.vehicleId}`;
    this.#span.textContent = `${answer.time.length} rows from the warehouse, event time ${answer.from.slice(0, 19)}Z to ${answer.to.slice(0, 19)}Z`;
    this.#speed.update(answer.time, [
      s.speed_kmh,
      s.speed_mean_1m,
      s.speed_mean_5m,
      s.speed_mean_15m,
      s.speed_mean_1h,
    ]);
    this.#temp.update(answer.time, [
      s.engine_temp_c,
      s.temp_mean_1m,
      s.temp_mean_5m,
      s.temp_mean_15m,
      s.temp_mean_1h,
      s.temp_max_1h,
      answer.time.map(() => tempAnomalyC),
    ]);
    this.#other.update(answer.time, [s.distance_km_1h, s.risk_score]);
  }
}
