// Pipeline health of a running local stack, sampled over time: what the dev summary prints and the
// dashboard draws. (Interface agreed between the freshness work and the dashboard work; the
// sampler that fills it lives beside it.)

/** Percentiles of one latency, over the rows made durable so far (null until there is one). */
export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface PipelineHealth {
  /** ISO time of the sample. */
  at: string;
  readingsPublished: number;
  /** Over the last sampling interval. */
  readingsPerS: number;
  rows: number;
  distinctRows: number;
  rowsPerS: number;
  freshness: {
    /** A reading's event time to its feature row being durable (warehouse + archive message). */
    eventToDurable: LatencySummary;
    /** The message's Pub/Sub publish time to its feature row being durable. */
    publishToDurable: LatencySummary;
    /** A reading's event time to its windows and latest vector being updated in Redis (online; before durable). */
    eventToOnline?: LatencySummary;
    publishToOnline?: LatencySummary;
    /**
     * How much faster than the wall the devices' clocks run: 1 for real devices, the simulator's
     * --speedup otherwise; above 1 the event-time figures include the simulated clocks' lag.
     */
    eventClockSpeedup?: number;
  };
  deadLettered: number;
  /** Readings past the allowed lateness (archived under late/). */
  late: number;
  /** Objects under quarantine/. */
  quarantined: number;
  /** rowsPerObject: warehouse rows per features/ object (the archive holds the same rows; exact once objects are cut). */
  archive: { featureObjects: number; rawObjects: number; rowsPerObject: number | null };
  /**
   * Readings published that are to become rows and are not rows in the warehouse yet (the
   * simulator's count; 0 without it: Pub/Sub's emulator reports no backlog).
   */
  backlog: number;
}

export interface PipelineHealthSource {
  /** The newest sample. */
  current(): PipelineHealth;
  /** Samples oldest first (bounded). */
  history(): readonly PipelineHealth[];
}
