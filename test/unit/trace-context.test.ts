// W3C traceparent: what is accepted, what is ignored (never an error), and what is passed on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  childSpan,
  cloudLoggingTraceFields,
  formatTraceparent,
  parseTraceparent,
  startTrace,
} from '../../shared/tracing/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it.each([
    [`00-${TRACE}-${SPAN}-01`, { traceId: TRACE, spanId: SPAN, sampled: true }],
    [`00-${TRACE}-${SPAN}-00`, { traceId: TRACE, spanId: SPAN, sampled: false }],
    [`00-${TRACE}-${SPAN}-03`, { traceId: TRACE, spanId: SPAN, sampled: true }],
    // A later version: its first four fields are read, the rest ignored.
    [`01-${TRACE}-${SPAN}-01-what-comes-next`, { traceId: TRACE, spanId: SPAN, sampled: true }],
  ])('reads %s', (value, expected) => {
    expect(parseTraceparent(value)).toEqual(expected);
  });

  it.each([
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with more fields', `00-${TRACE}-${SPAN}-01-extra`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['no flags', `00-${TRACE}-${SPAN}`],
    ['surrounding spaces', ` 00-${TRACE}-${SPAN}-01`],
    ['an empty string', ''],
    ['a number', 42],
    ['undefined', undefined],
  ])('ignores %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const parsed = parseTraceparent(text);
        if (parsed !== undefined) expect(formatTraceparent(parsed).slice(3, 52)).toBe(text.slice(3, 52));
      }),
    );
  });
});

describe('starting and passing on a trace', () => {
  it('formats what it parses, as version 00', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{32}$/),
        fc.stringMatching(/^[0-9a-f]{16}$/),
        fc.boolean(),
        (traceId, spanId, sampled) => {
          fc.pre(/[^0]/.test(traceId) && /[^0]/.test(spanId));
          const context = { traceId, spanId, sampled };
          expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
        },
      ),
    );
  });

  it('starts valid traces and gives each hop a span of its own in the same trace', () => {
    const trace = startTrace(true);
    expect(parseTraceparent(formatTraceparent(trace))).toEqual(trace);
    const child = childSpan(trace);
    expect(child).toMatchObject({ traceId: trace.traceId, sampled: true });
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(trace.spanId);
  });

  it("names the trace in Cloud Logging's fields", () => {
    expect(cloudLoggingTraceFields({ traceId: TRACE, spanId: SPAN, sampled: true }, 'my-project')).toEqual({
      'logging.googleapis.com/trace': `projects/my-project/traces/${TRACE}`,
      'logging.googleapis.com/spanId': SPAN,
      'logging.googleapis.com/trace_sampled': true,
    });
  });
});
