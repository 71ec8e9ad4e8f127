/**
 * Query jobs and their results, in memory. Queries run to completion when the job is inserted, so a
 * job is always DONE; its rows are kept for getQueryResults paging until the job is evicted (oldest
 * first beyond `capacity`) or the stand-in stops.
 */
import type { BigQueryApiError } from './api-error.js';
import type { ResultCell, ResultField } from './result-encoding.js';

export interface QueryJob {
  projectId: string;
  jobId: string;
  location: string;
  /** The `configuration` object as the job resource returns it. */
  configuration: Record<string, unknown>;
  creationTime: number;
  endTime: number;
  statementType: 'SELECT';
  dryRun: boolean;
  fields: ResultField[];
  rows: ResultCell[][];
  error?: BigQueryApiError;
}

export class QueryJobs {
  private readonly jobs = new Map<string, QueryJob>();

  constructor(private readonly capacity = 1000) {}

  private key(projectId: string, jobId: string): string {
    return `${projectId}\u0000${jobId}`;
  }

  has(projectId: string, jobId: string): boolean {
    return this.jobs.has(this.key(projectId, jobId));
  }

  get(projectId: string, jobId: string): QueryJob | undefined {
    return this.jobs.get(this.key(projectId, jobId));
  }

  add(job: QueryJob): void {
    this.jobs.set(this.key(job.projectId, job.jobId), job);
    while (this.jobs.size > this.capacity) {
      const oldest = this.jobs.keys().next().value;
      if (oldest === undefined) break;
      this.jobs.delete(oldest);
    }
  }

  delete(projectId: string, jobId: string): boolean {
    return this.jobs.delete(this.key(projectId, jobId));
  }

  list(projectId: string): QueryJob[] {
    return [...this.jobs.values()].filter((job) => job.projectId === projectId).reverse();
  }
}

/** Opaque page tokens: the offset of the next row, so a token stays valid for the job's lifetime. */
export function encodePageToken(offset: number): string {
  return Buffer.from(`row:${offset}`).toString('base64url');
}

export function decodePageToken(token: string): number | undefined {
  const match = /^row:(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}
