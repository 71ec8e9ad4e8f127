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
  };
  deadLettered: number;
  /** Readings past the allowed lateness (archived under late/). */
  late: number;
  /** Objects under quarantine/. */
  quarantined: number;
  archive: { featureObjects: number; rawObjects: number; rowsPerObject: number | null };
  /** Readings published and not yet accounted for (row, dead letter, late or duplicate). */
  backlog: number;
}

export interface PipelineHealthSource {
  /** The newest sample. */
  current(): PipelineHealth;
  /** Samples oldest first (bounded). */
  history(): readonly PipelineHealth[];
}
