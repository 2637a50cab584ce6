import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pyFixed, pyNumber, pyRepr, pyStr } from '../../src/core/pyrepr.ts';

test('pyNumber prints JSON integers exactly and floats like Python repr', () => {
  const cases: [number | bigint, string][] = [
    [0, '0'], [-0, '0'], [42, '42'], [-7, '-7'], [1795468282801623000, '1795468282801623000'],
    [1795468282798816768n, '1795468282798816768'], [1e21, '1000000000000000000000'],
    [0.5, '0.5'], [0.01, '0.01'], [1e-5, '1e-05'], [0.0001, '0.0001'], [1e-7, '1e-07'],
    [0.1 + 0.2, '0.30000000000000004'], [123456789012345.6, '123456789012345.6'],
    [1e15 + 0.5, '1000000000000000.5'], [5e-324, '5e-324'], [2.5e-300, '2.5e-300'],
    [-2.5, '-2.5'], [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'],
  ];
  for (const [n, expected] of cases) assert.equal(pyNumber(n), expected, String(n));
});

test('pyFixed rounds exact ties to even like "%.Nf"', () => {
  const cases: [number, number, string][] = [
    [0.5, 0, '0'], [1.5, 0, '2'], [2.5, 0, '2'], [-0.5, 0, '-0'], [-0.4, 0, '-0'],
    [0.125, 1, '0.1'], [0.375, 1, '0.4'], [1.25, 1, '1.2'], [-1.25, 1, '-1.2'], [1.35, 1, '1.4'],
    [12345.678, 1, '12345.7'], [0.332529, 6, '0.332529'], [123456789012345.6, 6, '123456789012345.593750'],
    [1e22, 0, '10000000000000000000000'], [1e22, 2, '10000000000000000000000.00'],
  ];
  for (const [x, digits, expected] of cases) assert.equal(pyFixed(x, digits), expected, `${x} %.${digits}f`);
});

test('pyRepr quotes and escapes strings like Python 3', () => {
  assert.equal(pyRepr('abc'), "'abc'");
  assert.equal(pyRepr("a'b"), `"a'b"`);
  assert.equal(pyRepr('a"b'), `'a"b'`);
  assert.equal(pyRepr(`a'"b`), `'a\\'"b'`);
  assert.equal(pyRepr('x\\y'), "'x\\\\y'");
  assert.equal(pyRepr('tab\t\n\r\u0001\u007f\u00a0é\u2028😀\u200b'), "'tab\\t\\n\\r\\x01\\x7f\\xa0é\\u2028😀\\u200b'");
});

test('pyRepr renders lists and dicts in insertion order', () => {
  assert.equal(pyRepr([]), '[]');
  assert.equal(pyRepr({}), '{}');
  assert.equal(pyRepr([1795468270, 791664]), '[1795468270, 791664]');
  assert.equal(pyRepr(['success']), "['success']");
  assert.equal(pyRepr({ oob_program: '', spindle_count: 1, exclusive_storage: false, x: null, l: [0.5, 'a'] }),
    "{'oob_program': '', 'spindle_count': 1, 'exclusive_storage': False, 'x': None, 'l': [0.5, 'a']}");
  assert.equal(pyRepr(new Map([['k', [true]]])), "{'k': [True]}");
});

test('pyStr leaves top-level strings alone and repr()s the rest', () => {
  assert.equal(pyStr('plain'), 'plain');
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr(undefined), 'None');
  assert.equal(pyStr(true), 'True');
  assert.equal(pyStr(3), '3');
  assert.equal(pyStr(['a', 'b']), "['a', 'b']");
});
