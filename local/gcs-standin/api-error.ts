/**
 * An error answered in the JSON API's error shape:
 * `{"error":{"code":404,"message":"...","errors":[{"message":"...","domain":"global","reason":"notFound"}]}}`.
 * `code` is the stable GCS `reason`; `status` the HTTP status.
 */
export class GcsApiError extends Error {
  override readonly name = 'GcsApiError';
  readonly status: number;
  readonly code: string;
  readonly location: { locationType: string; location: string } | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { location?: { locationType: string; location: string }; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.location = options.location;
  }

  toBody(): { error: { code: number; message: string; errors: Record<string, string>[] } } {
    const detail: Record<string, string> = { message: this.message, domain: 'global', reason: this.code };
    if (this.location) Object.assign(detail, this.location);
    return { error: { code: this.status, message: this.message, errors: [detail] } };
  }
}

export const badRequest = (message: string, code = 'invalid') => new GcsApiError(400, code, message);

export const required = (parameter: string) =>
  new GcsApiError(400, 'required', `Required parameter: ${parameter}`, {
    location: { locationType: 'parameter', location: parameter },
  });

export const notFound = (message: string) => new GcsApiError(404, 'notFound', message);

export const bucketNotFound = () => notFound('The specified bucket does not exist.');

export const objectNotFound = (bucket: string, name: string) => notFound(`No such object: ${bucket}/${name}`);

export const conflict = (message: string) => new GcsApiError(409, 'conflict', message);

export const preconditionFailed = (header: 'If-Match' | 'If-None-Match' | 'If-Metageneration-Match') =>
  new GcsApiError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', {
    location: { locationType: 'header', location: header },
  });

export const notModified = () => new GcsApiError(304, 'notModified', 'Not Modified');

/** Anything the stand-in does not implement: a clear refusal, never a wrong answer. */
export const notImplemented = (what: string) =>
  new GcsApiError(501, 'notImplemented', `The local GCS stand-in does not support ${what}.`);
