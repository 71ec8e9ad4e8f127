// The dashboard page: polls the dashboard server every POLL_MS and redraws the health panel, the
// fleet table and the selected vehicle's charts. The selected vehicle is in the URL (#vehicle=ID).

import 'uplot/dist/uPlot.min.css';
import './dashboard.css';
import {
  DASHBOARD_API,
  type FleetAnswer,
  type HealthAnswer,
  type VehicleWindowsAnswer,
} from '../dashboard-api.js';
import { FleetTable } from './fleet-table.js';
import { HealthPanel } from './health-panel.js';
import { VehicleCharts } from './vehicle-charts.js';

const POLL_MS = 1500;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const status = byId('status');
const model = byId('model');
const health = new HealthPanel(byId('health-tiles'), byId('health-charts'));
const fleet = new FleetTable(byId<HTMLTableElement>('fleet-table'), byId('fleet-empty'), select);
const vehicle = new VehicleCharts(byId('vehicle-title'), byId('vehicle-span'), byId('vehicle-charts'));
let lastFleet: FleetAnswer | undefined;
let updates = 0;

function selectedVehicle(): string | undefined {
  const match = /^#vehicle=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

function select(vehicleId: string): void {
  location.hash = `vehicle=${encodeURIComponent(vehicleId)}`;
  if (lastFleet) fleet.show(lastFleet, vehicleId);
  void refreshVehicle(vehicleId, lastFleet?.tempAnomalyC);
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function refreshVehicle(vehicleId: string, tempAnomalyC = 105): Promise<void> {
  vehicle.show(await getJson<VehicleWindowsAnswer>(DASHBOARD_API.vehicleWindows(vehicleId)), tempAnomalyC);
}

async function refresh(): Promise<void> {
  const [healthAnswer, fleetAnswer] = await Promise.all([
    getJson<HealthAnswer>(DASHBOARD_API.health),
    getJson<FleetAnswer>(DASHBOARD_API.fleet),
  ]);
  health.show(healthAnswer);
  lastFleet = fleetAnswer;
  model.textContent = fleetAnswer.modelVersion
    ? `risk scored by model ${fleetAnswer.modelVersion}`
    : 'no model promoted: risk not scored';
  const shown = fleet.show(fleetAnswer, selectedVehicle());
  const vehicleId = selectedVehicle() ?? shown[0]?.vehicle_id;
  if (vehicleId !== undefined && shown.some((row) => row.vehicle_id === vehicleId)) {
    await refreshVehicle(vehicleId, fleetAnswer.tempAnomalyC);
  }
}

async function poll(): Promise<void> {
  try {
    await refresh();
    updates++;
    document.body.dataset.updates = String(updates);
    status.textContent = `live · updated ${new Date().toISOString().slice(11, 19)} UTC`;
    status.classList.remove('error');
  } catch (error) {
    status.textContent = `update failed: ${error instanceof Error ? error.message : String(error)}`;
    status.classList.add('error');
  }
  setTimeout(() => void poll(), POLL_MS);
}

void poll();
