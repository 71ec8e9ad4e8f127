/**
 * BigQuery's civil-time and timestamp text formats, with microsecond precision held in bigint.
 * Pure; the Gregorian arithmetic is Howard Hinnant's days-from-civil, valid for BigQuery's whole
 * range (years 1..9999), where `Date.UTC` would remap years 0..99.
 */

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

/** BigQuery's TIMESTAMP range: 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC. */
const MIN_MICROS = -62_135_596_800_000_000n;
const MAX_MICROS = 253_402_300_799_999_999n;

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = year - (month <= 2 ? 1 : 0);
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function validCivilDays(year: number, month: number, day: number): number | undefined {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const days = daysFromCivil(year, month, day);
  const back = civilFromDays(days);
  return back.month === month && back.day === day ? days : undefined;
}

const DATE_PART = String.raw`(\d{4})[-/](\d{1,2})[-/](\d{1,2})`;
const TIME_PART = String.raw`(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?`;
const TIMESTAMP_TEXT = new RegExp(
  String.raw`^\s*${DATE_PART}(?:(?:[Tt]|\s+)${TIME_PART})?\s*(?:([Zz]|UTC)|([+-])(\d{1,2})(?::?(\d{2}))?)?\s*$`,
);
const DATETIME_TEXT = new RegExp(String.raw`^\s*${DATE_PART}(?:(?:[Tt]|\s+)${TIME_PART})?\s*$`);
const DATE_TEXT = new RegExp(String.raw`^\s*${DATE_PART}\s*$`);

function clockMicros(
  hour: string | undefined,
  minute: string | undefined,
  second: string | undefined,
  fraction: string | undefined,
): bigint | undefined {
  const h = Number(hour ?? 0);
  const m = Number(minute ?? 0);
  const s = Number(second ?? 0);
  if (h > 23 || m > 59 || s > 59) return undefined;
  // Digits past the microsecond are truncated: BigQuery stores microseconds.
  const micros = BigInt((fraction ?? '').padEnd(6, '0').slice(0, 6));
  return BigInt(h * 3600 + m * 60 + s) * MICROS_PER_SECOND + micros;
}

/** Epoch microseconds of an absolute instant written the ways BigQuery accepts; undefined if not one. */
export function parseTimestampText(text: string): bigint | undefined {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, f, utc, sign, offH, offM] = match;
  const days = validCivilDays(Number(y), Number(mo), Number(d));
  const clock = clockMicros(h, mi, s, f);
  if (days === undefined || clock === undefined) return undefined;
  let micros = BigInt(days) * MICROS_PER_DAY + clock;
  if (!utc && sign) {
    const offsetMinutes = Number(offH) * 60 + Number(offM ?? 0);
    if (Number(offH) > 14 || Number(offM ?? 0) > 59) return undefined;
    // "10:00+02:00" is 08:00 UTC.
    micros -= BigInt(sign === '-' ? -offsetMinutes : offsetMinutes) * 60n * MICROS_PER_SECOND;
  }
  return micros >= MIN_MICROS && micros <= MAX_MICROS ? micros : undefined;
}

/** Epoch seconds (a JSON number, possibly fractional) → microseconds, rounded like the Node client does. */
export function epochSecondsToMicros(seconds: number): bigint | undefined {
  if (!Number.isFinite(seconds)) return undefined;
  const whole = Math.trunc(seconds);
  const micros = BigInt(whole) * MICROS_PER_SECOND + BigInt(Math.round((seconds - whole) * 1e6));
  return micros >= MIN_MICROS && micros <= MAX_MICROS ? micros : undefined;
}

/** A civil DATETIME (no zone) → microseconds since 0001-01-01 counted like epoch UTC. */
export function parseDatetimeText(text: string): bigint | undefined {
  const match = DATETIME_TEXT.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, f] = match;
  const days = validCivilDays(Number(y), Number(mo), Number(d));
  const clock = clockMicros(h, mi, s, f);
  if (days === undefined || clock === undefined) return undefined;
  return BigInt(days) * MICROS_PER_DAY + clock;
}

/** `YYYY-[M]M-[D]D` → days since 1970-01-01. */
export function parseDateText(text: string): number | undefined {
  const match = DATE_TEXT.exec(text);
  if (!match) return undefined;
  return validCivilDays(Number(match[1]), Number(match[2]), Number(match[3]));
}

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, '0');

function splitMicros(micros: bigint): { days: number; clock: bigint } {
  let days = micros / MICROS_PER_DAY;
  let clock = micros % MICROS_PER_DAY;
  if (clock < 0n) {
    clock += MICROS_PER_DAY;
    days -= 1n;
  }
  return { days: Number(days), clock };
}

export function formatDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** `HH:MM:SS[.ffffff]` for microseconds since midnight. */
export function formatTime(clockMicrosValue: bigint): string {
  const totalSeconds = clockMicrosValue / MICROS_PER_SECOND;
  const fraction = clockMicrosValue % MICROS_PER_SECOND;
  const h = totalSeconds / 3600n;
  const m = (totalSeconds / 60n) % 60n;
  const s = totalSeconds % 60n;
  const base = `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`;
  return fraction === 0n ? base : `${base}.${pad(fraction, 6)}`;
}

/** DATETIME as the REST API returns it: `YYYY-MM-DDTHH:MM:SS[.ffffff]`. */
export function formatDatetime(micros: bigint): string {
  const { days, clock } = splitMicros(micros);
  return `${formatDate(days)}T${formatTime(clock)}`;
}

/** TIMESTAMP for `formatOptions.timestampOutputFormat = ISO8601_STRING`: `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
export function formatTimestampIso(micros: bigint): string {
  const { days, clock } = splitMicros(micros);
  const seconds = formatTime(clock - (clock % MICROS_PER_SECOND));
  return `${formatDate(days)}T${seconds}.${pad(clock % MICROS_PER_SECOND, 6)}Z`;
}

/**
 * TIMESTAMP in the API's legacy default: epoch seconds as a floating-point string, in Java's
 * `Double.toString` style for large values (`1.7041032001E9`), exact to the microsecond in the digits.
 */
export function formatTimestampFloatSeconds(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = (abs / MICROS_PER_SECOND).toString();
  const fraction = pad(abs % MICROS_PER_SECOND, 6).replace(/0+$/, '');
  const sign = negative ? '-' : '';
  if (whole.length > 7) {
    const mantissa = (whole.slice(1) + fraction).replace(/0+$/, '') || '0';
    return `${sign}${whole[0]}.${mantissa}E${whole.length - 1}`;
  }
  return `${sign}${whole}.${fraction || '0'}`;
}
