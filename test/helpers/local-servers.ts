// Typed access, from inside a test, to the servers that test/global-setup.ts started for this run.

import { inject } from 'vitest';

export interface LocalServers {
  redisUrl: string;
  /** `127.0.0.1:PORT`: the value for PUBSUB_EMULATOR_HOST or the Pub/Sub client's apiEndpoint. */
  pubsubEmulatorHost: string;
  gcsStandinUrl: string;
  gcsStandinHost: string;
  bigqueryStandinUrl: string;
  projectId: string;
}

export function localServers(): LocalServers {
  return {
    redisUrl: inject('redisUrl'),
    pubsubEmulatorHost: inject('pubsubEmulatorHost'),
    gcsStandinUrl: inject('gcsStandinUrl'),
    gcsStandinHost: inject('gcsStandinHost'),
    bigqueryStandinUrl: inject('bigqueryStandinUrl'),
    projectId: inject('projectId'),
  };
}
