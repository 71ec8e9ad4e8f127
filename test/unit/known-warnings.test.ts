import { describe, expect, it } from 'vitest';
import { isKnownLibraryWarning } from '../../shared/runtime/known-warnings.js';

function warning(name: string, message: string, stack: string): Error {
  const error = new Error(message);
  error.name = name;
  error.stack = `${name}: ${message}\n${stack}`;
  return error;
}

describe('library warnings known to be harmless', () => {
  it("recognises teeny-request's listener warning on a download stream", () => {
    const w = warning(
      'MaxListenersExceededWarning',
      'Possible EventEmitter memory leak detected. 11 close listeners added to [PassThrough]. MaxListeners is 10.',
      '    at pipeline (node:internal/streams/pipeline:181:10)\n    at PassThrough.<anonymous> (/app/node_modules/teeny-request/build/src/index.js:461:43)',
    );
    expect(isKnownLibraryWarning(w)).toBe(true);
  });

  it('keeps every other warning, including the same warning raised by our own code', () => {
    const ours = warning(
      'MaxListenersExceededWarning',
      'Possible EventEmitter memory leak detected. 11 close listeners added to [PassThrough]. MaxListeners is 10.',
      '    at Object.<anonymous> (/app/shared/runtime/group-commit-sink.js:10:3)',
    );
    const deprecation = warning('DeprecationWarning', 'Buffer() is deprecated', '    at teeny-request');
    expect(isKnownLibraryWarning(ours)).toBe(false);
    expect(isKnownLibraryWarning(deprecation)).toBe(false);
  });
});
