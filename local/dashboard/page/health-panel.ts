// Pipeline health: the newest sample as tiles, the recent ones as charts.

import type { LatencySummary, PipelineHealth } from '../../dev/pipeline-health.js';
import type { HealthAnswer } from '../dashboard-api.js';
import { formatNumber } from './cell-format.js';
import { TimeChart } from './time-chart.js';

interface Tile {
  metric: string;
  label: string;
  value: (h: PipelineHealth) => string;
}

/** Milliseconds below a second, seconds above. */
const ms = (latency: LatencySummary, which: 'p50Ms' | 'p99Ms') => {
  const value = latency[which];
  if (value === null) return '–';
  return value < 1000 ? `${formatNumber(value, 0)} ms` : `${formatNumber(value / 1000, 1)} s`;
};

const TILES: readonly Tile[] = [
  { metric: 'readingsPerS', label: 'readings/s', value: (h) => formatNumber(h.readingsPerS, 1) },
  { metric: 'rowsPerS', label: 'rows/s', value: (h) => formatNumber(h.rowsPerS, 1) },
  { metric: 'readingsPublished', label: 'readings published', value: (h) => String(h.readingsPublished) },
  { metric: 'rows', label: 'feature rows', value: (h) => String(h.rows) },
  {
    metric: 'eventToDurableP50',
    label: 'event → durable p50',
    value: (h) => ms(h.freshness.eventToDurable, 'p50Ms'),
  },
  {
    metric: 'eventToDurableP99',
    label: 'event → durable p99',
    value: (h) => ms(h.freshness.eventToDurable, 'p99Ms'),
  },
  {
    metric: 'publishToDurableP50',
    label: 'publish → durable p50',
    value: (h) => ms(h.freshness.publishToDurable, 'p50Ms'),
  },
  {
    metric: 'publishToDurableP99',
    label: 'publish → durable p99',
    value: (h) => ms(h.freshness.publishToDurable, 'p99Ms'),
  },
  { metric: 'deadLettered', label: 'dead-lettered', value: (h) => String(h.deadLettered) },
  { metric: 'late', label: 'late', value: (h) => String(h.late) },
  { metric: 'quarantined', label: 'quarantined', value: (h) => String(h.quarantined) },
  {
    metric: 'archiveObjects',
    label: 'archive objects features/ · raw/',
    value: (h) => `${h.archive.featureObjects} · ${h.archive.rawObjects}`,
  },
  {
    metric: 'rowsPerObject',
    label: 'rows per object',
    value: (h) => formatNumber(h.archive.rowsPerObject, 1),
  },
  { metric: 'backlog', label: 'backlog', value: (h) => String(h.backlog) },
];

export class HealthPanel {
  readonly #values = new Map<string, HTMLElement>();
  readonly #tiles: HTMLElement;
  readonly #note: HTMLElement;
  readonly #throughput: TimeChart;
  readonly #freshness: TimeChart;
  readonly #backlog: TimeChart;

  constructor(tiles: HTMLElement, charts: HTMLElement) {
    this.#tiles = tiles;
    for (const tile of TILES) {
      const box = document.createElement('div');
      box.className = 'tile';
      box.dataset.metric = tile.metric;
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = tile.label;
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = '–';
      box.append(value, label);
      tiles.append(box);
      this.#values.set(tile.metric, value);
    }
    this.#note = document.createElement('p');
    this.#note.className = 'note';
    tiles.after(this.#note);
    this.#throughput = new TimeChart(charts, {
      name: 'throughput',
      title: 'Throughput',
      unit: 'per second',
      perRow: 3,
      lines: [
        { label: 'readings/s', stroke: '#2563eb' },
        { label: 'rows/s', stroke: '#16a34a' },
      ],
    });
    this.#freshness = new TimeChart(charts, {
      name: 'freshness',
      title: 'Freshness (to a durable row)',
      unit: 'ms',
      perRow: 3,
      lines: [
        { label: 'event p50', stroke: '#9333ea' },
        { label: 'event p99', stroke: '#9333ea', dash: [6, 4] },
        { label: 'publish p50', stroke: '#ea580c' },
        { label: 'publish p99', stroke: '#ea580c', dash: [6, 4] },
      ],
    });
    this.#backlog = new TimeChart(charts, {
      name: 'backlog',
      title: 'Backlog and rejects',
      unit: 'readings',
      perRow: 3,
      lines: [
        { label: 'backlog', stroke: '#0f766e' },
        { label: 'dead-lettered', stroke: '#dc2626' },
        { label: 'late', stroke: '#ca8a04' },
      ],
    });
  }

  show(answer: HealthAnswer): void {
    const { current, history } = answer;
    this.#tiles.classList.toggle('missing', current === null);
    if (current === null) return;
    for (const tile of TILES) this.#values.get(tile.metric)!.textContent = tile.value(current);
    const speedup = current.freshness.eventClockSpeedup ?? 1;
    this.#note.textContent =
      speedup > 1
        ? `The simulated devices' clocks run ${speedup}× faster than the wall: event-time figures include that lag; publish-time ones do not.`
        : '';
    const time = history.map((h) => Date.parse(h.at) / 1000);
    const pick = (f: (h: PipelineHealth) => number | null) => history.map(f);
    this.#throughput.update(time, [pick((h) => h.readingsPerS), pick((h) => h.rowsPerS)]);
    this.#freshness.update(time, [
      pick((h) => h.freshness.eventToDurable.p50Ms),
      pick((h) => h.freshness.eventToDurable.p99Ms),
      pick((h) => h.freshness.publishToDurable.p50Ms),
      pick((h) => h.freshness.publishToDurable.p99Ms),
    ]);
    this.#backlog.update(time, [pick((h) => h.backlog), pick((h) => h.deadLettered), pick((h) => h.late)]);
  }
}
