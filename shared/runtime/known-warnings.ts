/**
 * Warnings a library raises that are known, harmless and reported upstream. They are logged at
 * debug, not as WARNING entries, so a warning in the logs always means something of ours.
 *
 * - @google-cloud/storage 8.x: teeny-request 11 (node-fetch 3) adds an 11th error/close listener
 *   to the response stream of every download; one per download, not a leak
 *   (googleapis/google-cloud-node#9185, open).
 */
export function isKnownLibraryWarning(warning: Error): boolean {
  return (
    warning.name === 'MaxListenersExceededWarning' &&
    warning.message.includes('[PassThrough]') &&
    (warning.stack ?? '').includes('teeny-request')
  );
}
