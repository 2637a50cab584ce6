process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctime, formatTimestamp } from '../../src/cli/format/time.ts';

const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

test('ctime pads the day with a space, like time.ctime', () => {
  assert.equal(ctime(0), 'Thu Jan  1 00:00:00 1970');
  assert.equal(ctime(utc(2026, 11, 23, 21, 11, 28) + 0.9), 'Mon Nov 23 21:11:28 2026');
});

test('formatTimestamp renders seconds, [seconds, microseconds] and missing values', () => {
  assert.equal(formatTimestamp(utc(2026, 11, 23, 21, 11, 5)), '2026-11-23 21:11:05');
  assert.equal(formatTimestamp(utc(2026, 11, 23, 21, 11, 5) + 0.99), '2026-11-23 21:11:05');
  assert.equal(formatTimestamp([utc(2026, 11, 23, 21, 11, 22), 801623]), '2026-11-23 21:11:22.801623');
  assert.equal(formatTimestamp([utc(2026, 11, 23, 21, 11, 22), 46568]), '2026-11-23 21:11:22.046568');
  assert.equal(formatTimestamp(null), 'N/A');
  assert.equal(formatTimestamp(undefined), 'N/A');
  assert.equal(formatTimestamp('soon'), 'N/A');
  assert.equal(formatTimestamp([1, 2, 3]), 'N/A');
});

test('local time follows TZ', () => {
  process.env.TZ = 'Europe/Berlin';
  try {
    assert.equal(formatTimestamp(0), '1970-01-01 01:00:00');
    assert.equal(ctime(0), 'Thu Jan  1 01:00:00 1970');
  } finally {
    process.env.TZ = 'UTC';
  }
});
