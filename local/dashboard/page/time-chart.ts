// A uPlot line chart over time that follows its container's width and takes new data in place.

import uPlot from 'uplot';

export interface LineSpec {
  label: string;
  stroke: string;
  dash?: number[];
  width?: number;
}

const HEIGHT = 180;

/** Axis ticks and the cursor's time, in UTC like every time on the page. */
const utcTime = (epochS: number) => new Date(epochS * 1000).toISOString().slice(11, 19);

export class TimeChart {
  readonly #host: HTMLElement;
  readonly #options: uPlot.Options;
  readonly #perRow: number;
  #plot: uPlot | undefined;

  constructor(
    parent: HTMLElement,
    args: { title: string; unit: string; lines: readonly LineSpec[]; name: string; perRow: number },
  ) {
    this.#perRow = args.perRow;
    this.#host = document.createElement('div');
    this.#host.className = 'chart';
    this.#host.dataset.chart = args.name;
    parent.append(this.#host);
    this.#options = {
      title: args.title,
      width: this.#width(),
      height: HEIGHT,
      scales: { x: { time: true } },
      axes: [
        { values: (_u, splits) => splits.map(utcTime), space: 90 },
        { label: args.unit, size: 56 },
      ],
      series: [
        { label: 'time (UTC)', value: (_u, v) => (v === null ? '–' : utcTime(v)) },
        ...args.lines.map((line) => ({
          label: line.label,
          stroke: line.stroke,
          width: line.width ?? 1.5,
          ...(line.dash ? { dash: line.dash } : {}),
          spanGaps: false,
        })),
      ],
    };
    new ResizeObserver(() => this.#plot?.setSize({ width: this.#width(), height: HEIGHT })).observe(parent);
  }

  /** `time` in epoch seconds, ascending; one array of values per line. */
  update(time: readonly number[], lines: readonly (readonly (number | null)[])[]): void {
    const data = [time, ...lines] as unknown as uPlot.AlignedData;
    if (this.#plot === undefined) this.#plot = new uPlot(this.#options, data, this.#host);
    else this.#plot.setData(data);
    this.#host.dataset.points = String(time.length);
  }

  #width(): number {
    const available = this.#host.parentElement?.clientWidth ?? 900;
    return Math.max(260, Math.floor(available / this.#perRow) - 16);
  }
}
