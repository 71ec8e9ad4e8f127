/**
 * Where each reading of a `{"readings": [...]}` body sits in the text, so the gateway can forward
 * every accepted reading byte for byte as the device sent it (unknown fields, number spellings and
 * escapes included: the raw archive keeps what devices send). Pure and iterative: a hostile body
 * nested 100k deep costs a loop, not a stack.
 *
 * Only for text that JSON.parse has accepted as an object: the scanner trusts the grammar and
 * checks nothing. As in JSON.parse, when "readings" occurs twice the last one counts.
 */
export type Span = readonly [start: number, end: number];

const TAB = 9;
const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function skipWhitespace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== LINE_FEED && c !== CARRIAGE_RETURN) return i;
    i++;
  }
}

/** `i` is at an opening quote; returns the index after the closing one. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; ; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
    else if (Number.isNaN(c)) return j;
  }
}

/** `i` is at the start of a value; returns the index after it. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return skipString(text, i);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let j = i; j < text.length; ) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) {
        j = skipString(text, j);
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return text.length;
  }
  // A number or a literal: up to the next delimiter.
  let j = i;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (
      c === COMMA ||
      c === CLOSE_BRACE ||
      c === CLOSE_BRACKET ||
      c === SPACE ||
      c === TAB ||
      c === LINE_FEED ||
      c === CARRIAGE_RETURN
    ) {
      break;
    }
  }
  return j;
}

function arrayElementSpans(text: string, i: number): Span[] {
  const spans: Span[] = [];
  let j = skipWhitespace(text, i + 1);
  if (text.charCodeAt(j) === CLOSE_BRACKET) return spans;
  for (;;) {
    const end = skipValue(text, j);
    spans.push([j, end]);
    j = skipWhitespace(text, end);
    if (text.charCodeAt(j) !== COMMA) return spans;
    j = skipWhitespace(text, j + 1);
  }
}

/**
 * The spans of the elements of the top-level "readings" array, or null when the object has no
 * "readings" member (a single reading: the whole text is the reading).
 */
export function readingSpans(text: string): Span[] | null {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return null;
  let spans: Span[] | null = null;
  i = skipWhitespace(text, i + 1);
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWhitespace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return spans;
    i = skipWhitespace(text, i + 1);
    if (key === 'readings' && text.charCodeAt(i) === OPEN_BRACKET) spans = arrayElementSpans(text, i);
    else if (key === 'readings') spans = null;
    i = skipWhitespace(text, skipValue(text, i));
    if (text.charCodeAt(i) !== COMMA) break;
    i = skipWhitespace(text, i + 1);
  }
  return spans;
}
