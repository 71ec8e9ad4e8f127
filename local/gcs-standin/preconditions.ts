import { badRequest, notModified, preconditionFailed } from './api-error.js';

/** The generation preconditions of the JSON API (query parameters). */
export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

export const PRECONDITION_PARAMETERS = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

const INT64 = /^-?\d{1,19}$/;

export function parsePreconditions(query: URLSearchParams): Preconditions {
  const result: Preconditions = {};
  for (const key of PRECONDITION_PARAMETERS) {
    const raw = query.get(key);
    if (raw === null) continue;
    if (!INT64.test(raw)) throw badRequest(`Invalid value for ${key}: ${raw}`);
    result[key] = BigInt(raw).toString();
  }
  return result;
}

export interface Versioned {
  generation: string;
  metageneration: string;
}

/**
 * Checks preconditions against the live object (undefined when absent).
 * Writes fail with 412; reads answer 304 for a failed *NotMatch, as GCS does.
 * `ifGenerationMatch=0` means "must not exist"; `ifGenerationNotMatch=0` "must exist".
 */
export function checkPreconditions(
  current: Versioned | undefined,
  p: Preconditions,
  kind: 'read' | 'write',
): void {
  const notMatchFailure = () => (kind === 'read' ? notModified() : preconditionFailed('If-None-Match'));
  if (p.ifGenerationMatch !== undefined) {
    const ok =
      p.ifGenerationMatch === '0' ? current === undefined : current?.generation === p.ifGenerationMatch;
    if (!ok) throw preconditionFailed('If-Match');
  }
  if (p.ifGenerationNotMatch !== undefined) {
    const ok =
      p.ifGenerationNotMatch === '0' ? current !== undefined : current?.generation !== p.ifGenerationNotMatch;
    if (!ok) throw current === undefined ? preconditionFailed('If-None-Match') : notMatchFailure();
  }
  if (p.ifMetagenerationMatch !== undefined && current?.metageneration !== p.ifMetagenerationMatch) {
    throw preconditionFailed('If-Metageneration-Match');
  }
  if (p.ifMetagenerationNotMatch !== undefined) {
    if (current === undefined) throw preconditionFailed('If-None-Match');
    if (current.metageneration === p.ifMetagenerationNotMatch) throw notMatchFailure();
  }
}

/** Selects the live object, optionally pinned to a generation (`generation=` query parameter). */
export interface ObjectSelector {
  generation?: string;
  preconditions: Preconditions;
}

export function parseObjectSelector(query: URLSearchParams): ObjectSelector {
  const generation = query.get('generation');
  const preconditions = parsePreconditions(query);
  if (generation === null) return { preconditions };
  if (!/^\d{1,19}$/.test(generation)) throw badRequest(`Invalid value for generation: ${generation}`);
  return { generation: BigInt(generation).toString(), preconditions };
}
