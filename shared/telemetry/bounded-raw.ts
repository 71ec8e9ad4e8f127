/**
 * What a reject carries of the refused input, bounded. Refused input is hostile by definition: a
 * 100k-level array overflows the stack of JSON.stringify (and of any recursive encoder after it), a
 * 1 MB string would make a dead-letter message of 1 MB. So a reject keeps the value itself only when
 * it is small and shallow, and otherwise a prefix of its JSON text, computed without recursion.
 */

/** A value kept whole serializes to at most this many JSON characters (at most 48 KB of UTF-8). */
export const RAW_MAX_CHARS = 16 * 1024;
/**
 * A value kept whole nests at most this deep (a scalar is depth 0, `{}` depth 1). Twice what a
 * valid reading may nest, plus its batch envelope; shallow enough for any JSON library downstream.
 */
export const RAW_MAX_DEPTH = 32;
/** Length of the preview kept in place of a value that is too large or too deep. */
export const RAW_PREVIEW_CHARS = 2 * 1024;

export interface BoundedRaw {
  /**
   * The refused value as decoded; when `rawTruncated`, a string instead: the first characters of
   * its JSON text, or of the string itself when the value is a string (or undecodable text).
   */
  raw: unknown;
  rawTruncated: boolean;
}

export interface BoundedJson {
  /**
   * JSON.stringify's text of the value when `complete`. Otherwise its first `maxChars` characters
   * are the start of that text, and it is at most a few times `maxChars` long.
   */
  text: string;
  /** The whole value was written: it is plain JSON data within both limits. */
  complete: boolean;
}

type Frame =
  | { kind: 'array'; items: readonly unknown[]; next: number; depth: number }
  | { kind: 'object'; source: Record<string, unknown>; keys: string[]; next: number; depth: number };

/**
 * The JSON text of `value`, written with an explicit stack and abandoned as soon as it passes
 * `maxChars` or nests deeper than `maxDepth`: work and memory stay O(maxChars + keys of the objects
 * visited) whatever the structure, and it never throws. For plain JSON data (what JSON.parse
 * returns) the text equals JSON.stringify's, or is a prefix of it when incomplete. Anything that is
 * not plain data (bigint, undefined, functions, class instances, getters that throw) makes the
 * result incomplete, so such a value is never kept whole.
 */
export function boundedJson(value: unknown, limits: { maxChars: number; maxDepth: number }): BoundedJson {
  const parts: string[] = [];
  let length = 0;
  let complete = true;
  const emit = (piece: string): boolean => {
    parts.push(piece);
    length += piece.length;
    return length <= limits.maxChars;
  };
  // A string longer than the budget left is cut before encoding, so a 1 MB string costs little.
  const emitString = (text: string): boolean => {
    const room = limits.maxChars - length + 1;
    return emit(JSON.stringify(text.length > room ? text.slice(0, Math.max(room, 0)) : text));
  };

  const stack: Frame[] = [];
  /** Writes a scalar, or opens a container; returns false to stop. */
  const open = (node: unknown, depth: number): boolean => {
    if (node === null || typeof node === 'boolean' || typeof node === 'number') {
      return emit(JSON.stringify(node));
    }
    if (typeof node === 'string') return emitString(node);
    if (typeof node !== 'object') {
      complete = false; // bigint, undefined, symbol, function: not JSON data
      return false;
    }
    if (depth + 1 > limits.maxDepth) return false;
    if (Array.isArray(node)) {
      stack.push({ kind: 'array', items: node, next: 0, depth: depth + 1 });
      return emit('[');
    }
    const prototype = Object.getPrototypeOf(node);
    if (prototype !== Object.prototype && prototype !== null) {
      complete = false; // Date, Map, class instances: JSON.stringify would not write their fields
      return false;
    }
    stack.push({
      kind: 'object',
      source: node as Record<string, unknown>,
      keys: Object.keys(node),
      next: 0,
      depth: depth + 1,
    });
    return emit('{');
  };

  try {
    let going = open(value, 0);
    while (going && stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.kind === 'array') {
        if (frame.next === frame.items.length) {
          stack.pop();
          going = emit(']');
          continue;
        }
        if (frame.next > 0) going = emit(',');
        going = going && open(frame.items[frame.next++], frame.depth);
      } else {
        if (frame.next === frame.keys.length) {
          stack.pop();
          going = emit('}');
          continue;
        }
        const key = frame.keys[frame.next]!;
        if (frame.next++ > 0) going = emit(',');
        // Own data property: a JSON `__proto__` key is an own property here, never the prototype.
        going = going && emitString(key) && emit(':') && open(frame.source[key], frame.depth);
      }
    }
    if (!going || stack.length > 0 || length > limits.maxChars) complete = false;
  } catch {
    complete = false; // a throwing getter or proxy trap: not plain data
  }
  return { text: parts.join(''), complete };
}

/** The refused value whole when small and shallow, else a preview of its JSON text. Never throws. */
export function boundRaw(value: unknown): BoundedRaw {
  if (typeof value === 'string') return boundText(value);
  const json = boundedJson(value, { maxChars: RAW_MAX_CHARS, maxDepth: RAW_MAX_DEPTH });
  return json.complete
    ? { raw: value, rawTruncated: false }
    : { raw: json.text.slice(0, RAW_PREVIEW_CHARS), rawTruncated: true };
}

/**
 * Text that is not a decoded value (undecodable bytes, malformed JSON): whole when short, else its
 * start. Short is measured as JSON, since escapes grow control characters six times.
 */
export function boundText(text: string): BoundedRaw {
  return boundedJson(text, { maxChars: RAW_MAX_CHARS, maxDepth: 0 }).complete
    ? { raw: text, rawTruncated: false }
    : { raw: text.slice(0, RAW_PREVIEW_CHARS), rawTruncated: true };
}
