// The fleet table: one row per vehicle, sortable by any column (click its header), temperatures
// over the anomaly threshold and anomalous readings highlighted, risk tinted when a model scores.

import type { FeatureRow } from '../../../shared/rows/feature-row.js';
import type { FleetAnswer } from '../dashboard-api.js';
import { FLEET_COLUMNS, type FleetColumn, formatCell, type SortDirection, sortRows } from './cell-format.js';

export class FleetTable {
  readonly #table: HTMLTableElement;
  readonly #empty: HTMLElement;
  readonly #onSelect: (vehicleId: string) => void;
  readonly #headers = new Map<FleetColumn['key'], HTMLTableCellElement>();
  #sort: { key: FleetColumn['key']; direction: SortDirection } = {
    key: 'vehicle_id',
    direction: 'ascending',
  };
  #answer: FleetAnswer | undefined;
  #selected: string | undefined;

  constructor(table: HTMLTableElement, empty: HTMLElement, onSelect: (vehicleId: string) => void) {
    this.#table = table;
    this.#empty = empty;
    this.#onSelect = onSelect;
    const head = table.tHead!.insertRow();
    for (const column of FLEET_COLUMNS) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.dataset.column = column.key;
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = column.label;
      button.addEventListener('click', () => this.#sortBy(column.key));
      th.append(button);
      head.append(th);
      this.#headers.set(column.key, th);
    }
    this.#markSort();
  }

  /** The vehicles in the order shown. */
  show(answer: FleetAnswer, selected: string | undefined): FeatureRow[] {
    this.#answer = answer;
    this.#selected = selected;
    const rows = sortRows(answer.vehicles, this.#sort.key, this.#sort.direction);
    const body = this.#table.tBodies[0]!;
    body.replaceChildren(...rows.map((row) => this.#row(row, answer)));
    this.#empty.hidden = rows.length > 0;
    return rows;
  }

  #row(row: FeatureRow, answer: FleetAnswer): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset.vehicleId = row.vehicle_id;
    tr.dataset.eventId = row.event_id;
    tr.classList.toggle('anomaly', row.temp_anomaly);
    tr.classList.toggle('selected', row.vehicle_id === this.#selected);
    tr.addEventListener('click', () => this.#onSelect(row.vehicle_id));
    for (const column of FLEET_COLUMNS) {
      const td = tr.insertCell();
      const value = row[column.key];
      td.dataset.column = column.key;
      td.dataset.value = JSON.stringify(value);
      td.textContent = formatCell(row, column);
      if (column.kind === 'number') td.className = 'number';
      if (column.kind === 'time') td.title = row.event_ts;
      if (
        column.kind === 'number' &&
        column.temperature &&
        value !== null &&
        Number(value) > answer.tempAnomalyC
      ) {
        td.classList.add('hot');
      }
      if (column.key === 'risk_score' && row.risk_score !== null) {
        td.classList.add('risk');
        td.classList.toggle('risk-high', row.risk_score >= answer.riskThreshold);
        td.style.setProperty('--risk', String(row.risk_score));
        td.title = `model ${row.model_version ?? '?'}`;
      }
    }
    return tr;
  }

  #sortBy(key: FleetColumn['key']): void {
    const direction: SortDirection =
      this.#sort.key === key && this.#sort.direction === 'ascending' ? 'descending' : 'ascending';
    this.#sort = { key, direction };
    this.#markSort();
    if (this.#answer) this.show(this.#answer, this.#selected);
  }

  #markSort(): void {
    for (const [key, th] of this.#headers) {
      if (key === this.#sort.key) th.setAttribute('aria-sort', this.#sort.direction);
      else th.removeAttribute('aria-sort');
    }
  }
}
