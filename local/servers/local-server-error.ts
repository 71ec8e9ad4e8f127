// One error type for every way a local server can fail to come up, so callers (global test setup,
// the dev stack) can branch on a stable `code` and show the message as is.

export type LocalServerErrorCode =
  | 'BINARY_MISSING' // the program is not installed; the message names what to install
  | 'EXITED_EARLY' // the process died before it became ready
  | 'PORT_IN_USE' // the port was taken between picking it and binding it
  | 'START_TIMEOUT'; // still not ready at the deadline

export class LocalServerError extends Error {
  override readonly name = 'LocalServerError';
  readonly code: LocalServerErrorCode;
  readonly server: string;
  readonly logPath: string | undefined;

  constructor(
    code: LocalServerErrorCode,
    server: string,
    message: string,
    options: { cause?: unknown; logPath?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.server = server;
    this.logPath = options.logPath;
  }
}
