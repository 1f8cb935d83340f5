import { describe, expect, it } from 'vitest';
import { traceFields } from '../../shared/logging/logger.js';

const TRACE = '105445aa7843bc8bf206b12000100000';

describe('traceFields', () => {
  it('reads X-Cloud-Trace-Context into the Cloud Logging trace, span (hex) and sampled fields', () => {
    expect(traceFields(`${TRACE}/12345;o=1`, 'p')).toEqual({
      'logging.googleapis.com/trace': `projects/p/traces/${TRACE}`,
      'logging.googleapis.com/spanId': '0000000000003039',
      'logging.googleapis.com/trace_sampled': true,
    });
    expect(traceFields(TRACE, 'p')).toEqual({ 'logging.googleapis.com/trace': `projects/p/traces/${TRACE}` });
  });

  it('falls back to W3C traceparent, and prefers X-Cloud-Trace-Context when both are sent', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    expect(traceFields(undefined, 'p', tp)).toEqual({
      'logging.googleapis.com/trace': 'projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
      'logging.googleapis.com/trace_sampled': false,
    });
    expect(traceFields(`${TRACE}/1`, 'p', tp)['logging.googleapis.com/trace']).toBe(`projects/p/traces/${TRACE}`);
  });

  it('ignores malformed headers (they come from the caller) and needs a project', () => {
    expect(traceFields('"}, "severity": "EMERGENCY', 'p')).toEqual({});
    expect(traceFields('abc/1', 'p', 'garbage')).toEqual({});
    expect(traceFields(`${TRACE}/1;o=1`, undefined)).toEqual({});
  });
});
