// Vitest setup file: the test processes use the storage client directly, so they would print the
// library warning the functions log at debug (shared/runtime/known-warnings.ts). Every other warning
// still goes to Node's printer.
import { isKnownLibraryWarning } from '../../shared/runtime/known-warnings.js';

const printers = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (isKnownLibraryWarning(warning)) return;
  for (const print of printers) print.call(process, warning);
});
