// The identity view's SQL (pure): one GoogleSQL text for BigQuery and the local stand-in, built only
// from validated identifiers. Its behaviour on data is in test/integration/warehouse-identity-view.test.ts.
import { describe, expect, it } from 'vitest';
import { rewriteBigQuerySql } from '../../local/bigquery-standin/query-rewrite.js';
import { identityViewId, identityViewSql } from '../../shared/adapters/bigquery-feature-sink.js';
import type { FleetError } from '../../shared/errors.js';

describe('identityViewSql', () => {
  it('names the view after the table', () => {
    expect(identityViewId('features')).toBe('features_by_identity');
  });

  it('ranks copies of a reading by identity and keeps the first processed, within what the stand-in rewrites', () => {
    const sql = identityViewSql({ projectId: 'fleet-prod', dataset: 'fleet_features', table: 'features' });
    expect(sql).toContain('PARTITION BY vehicle_id, event_ts ORDER BY processed_ts, event_id');
    expect(sql).toContain('FROM `fleet-prod.fleet_features.features`');
    const rewritten = rewriteBigQuerySql(sql, { projectIds: ['fleet-prod'] });
    expect(rewritten.sql).toContain('"fleet_features"."features"');
    expect(rewritten.namedParameters).toEqual([]);
  });

  it.each([
    ['a dataset with a backtick', { projectId: 'fleet-prod', dataset: 'x`; DROP', table: 'features' }],
    ['a table with a dot', { projectId: 'fleet-prod', dataset: 'fleet', table: 'a.b' }],
    ['a project with a space', { projectId: 'fleet prod', dataset: 'fleet', table: 'features' }],
  ])('refuses %s (invalid_identifier), never splicing it into SQL', (_, source) => {
    expect(() => identityViewSql(source)).toThrow(
      expect.objectContaining({ name: 'FleetError', code: 'invalid_identifier' }) as FleetError,
    );
  });

  it('accepts a domain-scoped project id', () => {
    expect(
      identityViewSql({ projectId: 'example.com:fleet-prod', dataset: 'fleet', table: 'features' }),
    ).toContain('`example.com:fleet-prod.fleet.features`');
  });
});
