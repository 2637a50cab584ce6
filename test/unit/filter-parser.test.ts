import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpPrereqError, QueryFilterParseError } from '../../src/core/errors.ts';
import {
  combineFilters, dnsNameGlobPattern, formatFilterParseError, makeNameFilter, parseFilter,
} from '../../src/cli/filter-parser.ts';

function parseError(text: string): string {
  try {
    parseFilter(text);
  } catch (err) {
    assert.ok(err instanceof QueryFilterParseError);
    return formatFilterParseError(err);
  }
  assert.fail(`${JSON.stringify(text)} parsed`);
}

test('the examples of spec/surface.md §2.5', () => {
  assert.deepEqual(parseFilter('name =* "web*.example.com"'), ['=~', 'name', '^web[^.]*\\.example\\.com(\\..*)?$']);
  assert.deepEqual(parseFilter('pinst_cnt != 0'), ['!=', 'pinst_cnt', 0]);
  assert.deepEqual(parseFilter('not master_candidate'), ['!', ['?', 'master_candidate']]);
  assert.deepEqual(parseFilter('"foo" in tags'), ['=[]', 'tags', 'foo']);
  assert.deepEqual(parseFilter('"x" not in tags'), ['!', ['=[]', 'tags', 'x']]);
  assert.deepEqual(parseFilter('name !~ m/^web/i'), ['!', ['=~', 'name', '(?i)^web']]);
  assert.deepEqual(parseFilter('(be/vcpus == 3 or be/vcpus == 6) and pnode.group =~ m/^rack/'),
    ['&', ['|', ['==', 'be/vcpus', 3], ['==', 'be/vcpus', 6]], ['=~', 'pnode.group', '^rack']]);
  assert.deepEqual(makeNameFilter(['a', 'b']), ['|', ['==', 'name', 'a'], ['==', 'name', 'b']]);
  assert.deepEqual(makeNameFilter(['running'], { nameField: 'status' }), ['|', ['==', 'status', 'running']]);
});

test('filters of the golden runs (043, 044, 025)', () => {
  assert.deepEqual(parseFilter('admin_state == "down"'), ['==', 'admin_state', 'down']);
  assert.deepEqual(parseFilter('disk_template == "file" or name =~ /^beta/'),
    ['|', ['==', 'disk_template', 'file'], ['=~', 'name', '^beta']]);
  assert.deepEqual(makeNameFilter(['pinst_cnt > 1'], { forceFilter: true }), ['>', 'pinst_cnt', 1]);
});

test('parse errors print as Ganeti prints them (golden 106, 107)', () => {
  assert.equal(parseError('status =='), [
    "Error while parsing query filter: Failed to parse query filter 'status ==': Expected end of text, found '='  (at char 7), (line:1, col:8)",
    'status ==',
    '       ^',
    "Expected end of text, found '='  (at char 7), (line:1, col:8)",
  ].join('\n'));
  assert.throws(() => makeNameFilter(['name ='], { forceFilter: true }), (err: unknown) =>
    err instanceof QueryFilterParseError && formatFilterParseError(err) === [
      "Error while parsing query filter: Failed to parse query filter 'name =': Expected end of text, found '='  (at char 5), (line:1, col:6)",
      'name =',
      '     ^',
      "Expected end of text, found '='  (at char 5), (line:1, col:6)",
    ].join('\n'));
});

test('invalid regular expressions are reported at the regexp', () => {
  const lines = parseError('name =~ m/(/').split('\n');
  assert.match(lines[0], /^Error while parsing query filter: Failed to parse query filter 'name =~ m\/\(\/': Invalid regular expression \(.+\) {2}\(at char 8\), \(line:1, col:9\)$/);
  assert.deepEqual(lines.slice(1, 3), ['', '        ^']);
});

// Results of Ganeti's own grammar (pyparsing 3.0.9, as in Debian bookworm) for
// these texts: the parsed filter, or the lines the CLI prints for the error.
const PYPARSING_RESULTS: [string, { ok: unknown } | { error: string[] }][] = [
  ["a or b and c", {"ok": ["|", ["?", "a"], ["&", ["?", "b"], ["?", "c"]]]}],
  ["not not a", {"ok": ["!", ["!", ["?", "a"]]]}],
  ["a and b and c", {"ok": ["&", ["?", "a"], ["?", "b"], ["?", "c"]]}],
  ["not a and b", {"ok": ["&", ["!", ["?", "a"]], ["?", "b"]]}],
  ["x == 'it\\'s'", {"ok": ["==", "x", "it\\'s"]}],
  ["x == -5", {"ok": ["==", "x", -5]}],
  ["x == +5", {"ok": ["==", "x", 5]}],
  ["5 in x", {"ok": ["=[]", "x", 5]}],
  ["x <= 3 or x >= 4 and x > 1", {"ok": ["|", ["<=", "x", 3], ["&", [">=", "x", 4], [">", "x", 1]]]}],
  ["name = \"legacy\"", {"ok": ["==", "name", "legacy"]}],
  ["x < 3", {"ok": ["<", "x", 3]}],
  ["\"foo\" intags", {"ok": ["=[]", "tags", "foo"]}],
  ["a==1", {"ok": ["==", "a", 1]}],
  ["n =* \"?.y\"", {"ok": ["=~", "n", "^[^.]\\.y(\\..*)?$"]}],
  ["a !* \"*.x\"", {"ok": ["!", ["=~", "a", "^[^.]*\\.x(\\..*)?$"]]}],
  ["name =~ m/a\\/b/", {"ok": ["=~", "name", "a/b"]}],
  ["name =~ m/\\d+/", {"ok": ["=~", "name", "d+"]}],
  ["name =~ m/a\\tb/", {"ok": ["=~", "name", "a\tb"]}],
  ["name =~ /x/ i", {"ok": ["=~", "name", "(?i)x"]}],
  ["name =~ m /x/", {"ok": ["=~", "name", "x"]}],
  ["name =~ #x#s", {"ok": ["=~", "name", "(?s)x"]}],
  ["name =~ ^x^", {"ok": ["=~", "name", "x"]}],
  ["name =~ |x|is", {"ok": ["=~", "name", "(?is)x"]}],
  ["name =~ m/x/si", {"ok": ["=~", "name", "(?is)x"]}],
  ["x == \"a\"\"b\"", {"ok": ["==", "x", "a\"\"b"]}],
  ["not", {"ok": ["?", "not"]}],
  ["and", {"ok": ["?", "and"]}],
  ["a\tand\tb", {"ok": ["&", ["?", "a"], ["?", "b"]]}],
  ["not (a or b)", {"ok": ["!", ["|", ["?", "a"], ["?", "b"]]]}],
  ["", {"error": ["Error while parsing query filter: Failed to parse query filter '': Expected Suppress:('or') term  (at char 0), (line:1, col:1)", "", "^", "Expected Suppress:('or') term  (at char 0), (line:1, col:1)"]}],
  ["==", {"error": ["Error while parsing query filter: Failed to parse query filter '==': Expected Suppress:('or') term, found '='  (at char 0), (line:1, col:1)", "==", "^", "Expected Suppress:('or') term, found '='  (at char 0), (line:1, col:1)"]}],
  ["a and", {"error": ["Error while parsing query filter: Failed to parse query filter 'a and': Expected end of text, found 'and'  (at char 2), (line:1, col:3)", "a and", "  ^", "Expected end of text, found 'and'  (at char 2), (line:1, col:3)"]}],
  ["(a", {"error": ["Error while parsing query filter: Failed to parse query filter '(a': Expected Suppress:('or') term, found end of text  (at char 2), (line:1, col:3)", "(a", "  ^", "Expected Suppress:('or') term, found end of text  (at char 2), (line:1, col:3)"]}],
  ["a b", {"error": ["Error while parsing query filter: Failed to parse query filter 'a b': Expected end of text, found 'b'  (at char 2), (line:1, col:3)", "a b", "  ^", "Expected end of text, found 'b'  (at char 2), (line:1, col:3)"]}],
  ["(a == )", {"error": ["Error while parsing query filter: Failed to parse query filter '(a == )': Expected Suppress:('or') term, found '='  (at char 3), (line:1, col:4)", "(a == )", "   ^", "Expected Suppress:('or') term, found '='  (at char 3), (line:1, col:4)"]}],
  ["a == \"abc", {"error": ["Error while parsing query filter: Failed to parse query filter 'a == \"abc': Expected end of text, found '='  (at char 2), (line:1, col:3)", "a == \"abc", "  ^", "Expected end of text, found '='  (at char 2), (line:1, col:3)"]}],
  ["(\"abc", {"error": ["Error while parsing query filter: Failed to parse query filter '(\"abc': Expected Suppress:('or') term, found end of text  (at char 5), (line:1, col:6)", "(\"abc", "     ^", "Expected Suppress:('or') term, found end of text  (at char 5), (line:1, col:6)"]}],
  ["a and b or", {"error": ["Error while parsing query filter: Failed to parse query filter 'a and b or': Expected end of text, found 'or'  (at char 8), (line:1, col:9)", "a and b or", "        ^", "Expected end of text, found 'or'  (at char 8), (line:1, col:9)"]}],
  ["x==-a", {"error": ["Error while parsing query filter: Failed to parse query filter 'x==-a': Expected end of text, found '='  (at char 1), (line:1, col:2)", "x==-a", " ^", "Expected end of text, found '='  (at char 1), (line:1, col:2)"]}],
  ["x in y", {"error": ["Error while parsing query filter: Failed to parse query filter 'x in y': Expected end of text, found 'in'  (at char 2), (line:1, col:3)", "x in y", "  ^", "Expected end of text, found 'in'  (at char 2), (line:1, col:3)"]}],
  ["1 in", {"error": ["Error while parsing query filter: Failed to parse query filter '1 in': Expected Suppress:('or') term, found end of text  (at char 4), (line:1, col:5)", "1 in", "    ^", "Expected Suppress:('or') term, found end of text  (at char 4), (line:1, col:5)"]}],
  ["a\nand b or", {"error": ["Error while parsing query filter: Failed to parse query filter 'a\nand b or': Expected end of text, found 'or'  (at char 8), (line:2, col:7)", "and b or", "      ^", "Expected end of text, found 'or'  (at char 8), (line:2, col:7)"]}],
  ["a and\nb =", {"error": ["Error while parsing query filter: Failed to parse query filter 'a and\nb =': Expected end of text, found '='  (at char 8), (line:2, col:3)", "b =", "  ^", "Expected end of text, found '='  (at char 8), (line:2, col:3)"]}],
  ["name == \"a\\\\\"b\"", {"error": ["Error while parsing query filter: Failed to parse query filter 'name == \"a\\\\\"b\"': Expected end of text, found 'b'  (at char 13), (line:1, col:14)", "name == \"a\\\\\"b\"", "             ^", "Expected end of text, found 'b'  (at char 13), (line:1, col:14)"]}],
  ["(-", {"error": ["Error while parsing query filter: Failed to parse query filter '(-': Expected Suppress:('or') term, found end of text  (at char 2), (line:1, col:3)", "(-", "  ^", "Expected Suppress:('or') term, found end of text  (at char 2), (line:1, col:3)"]}],
  ["5and b", {"error": ["Error while parsing query filter: Failed to parse query filter '5and b': Expected Suppress:('or') term, found 'and'  (at char 1), (line:1, col:2)", "5and b", " ^", "Expected Suppress:('or') term, found 'and'  (at char 1), (line:1, col:2)"]}],
  ["a andb", {"error": ["Error while parsing query filter: Failed to parse query filter 'a andb': Expected end of text, found 'andb'  (at char 2), (line:1, col:3)", "a andb", "  ^", "Expected end of text, found 'andb'  (at char 2), (line:1, col:3)"]}],
  ["name =~ m/x/q", {"error": ["Error while parsing query filter: Failed to parse query filter 'name =~ m/x/q': Unknown regular expression flags: 'q'  (at char 8), (line:1, col:9)", "", "        ^", "Unknown regular expression flags: 'q'  (at char 8), (line:1, col:9)"]}],
  ["é", {"error": ["Error while parsing query filter: Failed to parse query filter 'é': Expected Suppress:('or') term, found 'é'  (at char 0), (line:1, col:1)", "é", "^", "Expected Suppress:('or') term, found 'é'  (at char 0), (line:1, col:1)"]}],
  ["\\", {"error": ["Error while parsing query filter: Failed to parse query filter '\\': Expected Suppress:('or') term, found '\\'  (at char 0), (line:1, col:1)", "\\", "^", "Expected Suppress:('or') term, found '\\'  (at char 0), (line:1, col:1)"]}],
  ["(\n)", {"error": ["Error while parsing query filter: Failed to parse query filter '(\n)': Expected Suppress:('or') term, found ')'  (at char 2), (line:2, col:1)", ")", "^", "Expected Suppress:('or') term, found ')'  (at char 2), (line:2, col:1)"]}],
  ["éééééééééééééééééééé", {"error": ["Error while parsing query filter: Failed to parse query filter 'éééééééééééééééééééé': Expected Suppress:('or') term, found 'éééééééééééééééé'  (at char 0), (line:1, col:1)", "éééééééééééééééééééé", "^", "Expected Suppress:('or') term, found 'éééééééééééééééé'  (at char 0), (line:1, col:1)"]}],
  ["x == é", {"error": ["Error while parsing query filter: Failed to parse query filter 'x == é': Expected end of text, found '='  (at char 2), (line:1, col:3)", "x == é", "  ^", "Expected end of text, found '='  (at char 2), (line:1, col:3)"]}],
  ["x == \\", {"error": ["Error while parsing query filter: Failed to parse query filter 'x == \\': Expected end of text, found '='  (at char 2), (line:1, col:3)", "x == \\", "  ^", "Expected end of text, found '='  (at char 2), (line:1, col:3)"]}],
  ["x == \"\n\"", {"error": ["Error while parsing query filter: Failed to parse query filter 'x == \"\n\"': Expected end of text, found '='  (at char 2), (line:1, col:3)", "x == \"", "  ^", "Expected end of text, found '='  (at char 2), (line:1, col:3)"]}],
];

test('agrees with Ganeti\'s pyparsing grammar, quirks included', () => {
  for (const [text, expected] of PYPARSING_RESULTS) {
    if ('ok' in expected) assert.deepEqual(parseFilter(text), expected.ok, JSON.stringify(text));
    else assert.equal(parseError(text), expected.error.join('\n'), JSON.stringify(text));
  }
});

test('deeply nested and long filters stay fast', () => {
  const nested = `${'('.repeat(100)}a and b or not c${')'.repeat(100)}`;
  assert.deepEqual(parseFilter(nested), ['|', ['&', ['?', 'a'], ['?', 'b']], ['!', ['?', 'c']]]);
  const long = Array.from({ length: 300 }, (_, i) => `f${i} == ${i}`).join(' or ');
  assert.equal((parseFilter(long) as unknown[]).length, 301);
});

test('DNS name globs stay within a label and allow a domain suffix', () => {
  assert.equal(dnsNameGlobPattern('web*.site'), '^web[^.]*\\.site(\\..*)?$');
  assert.equal(dnsNameGlobPattern('a*'), '^a[^.]*(\\..*)?$');
  assert.equal(dnsNameGlobPattern('*.gnt.test'), '^[^.]*\\.gnt\\.test(\\..*)?$');
  assert.equal(dnsNameGlobPattern('n?-x+y'), '^n[^.]\\-x\\+y(\\..*)?$');
  assert.equal(dnsNameGlobPattern(''), '^(\\..*)?$');
});

test('list arguments: names, globs, filters (golden 046, 047, 049)', () => {
  assert.equal(makeNameFilter([]), null);
  assert.deepEqual(makeNameFilter(['alpha']), ['|', ['==', 'name', 'alpha']]);
  assert.deepEqual(makeNameFilter(['a*']), ['|', ['=~', 'name', '^a[^.]*(\\..*)?$']]);
  assert.deepEqual(makeNameFilter(['*.gnt.test', 'x']), ['|', ['=~', 'name', '^[^.]*\\.gnt\\.test(\\..*)?$'], ['==', 'name', 'x']]);
  // A lone argument with filter characters is a filter; several never are.
  assert.deepEqual(makeNameFilter(['pinst_cnt>1']), ['>', 'pinst_cnt', 1]);
  assert.deepEqual(makeNameFilter(['a', 'b=c']), ['|', ['==', 'name', 'a'], ['==', 'name', 'b=c']]);
  assert.throws(() => makeNameFilter(['a', 'b'], { forceFilter: true }),
    (err: unknown) => err instanceof OpPrereqError && err.message === 'Exactly one argument must be given as a filter');
  assert.throws(() => makeNameFilter([], { forceFilter: true }), OpPrereqError);
});

test('job ids compare numerically on id (golden 067)', () => {
  const job = { nameField: 'id', numeric: true };
  assert.deepEqual(makeNameFilter(['2', '10'], job), ['|', ['==', 'id', 2], ['==', 'id', 10]]);
  assert.deepEqual(makeNameFilter(['+7', '0_1'], job), ['|', ['==', 'id', 7], ['==', 'id', 1]]);
  assert.throws(() => makeNameFilter(['2*'], job), (err: unknown) => err instanceof OpPrereqError &&
    err.message === "Invalid job ID passed: invalid literal for int() with base 10: '2*'" && err.args[1] === 'wrong_input');
});

test('a name filter and a command filter must both hold', () => {
  const names = makeNameFilter(['2'], { nameField: 'id', numeric: true });
  const running = makeNameFilter(['running'], { nameField: 'status' });
  assert.deepEqual(combineFilters(names, running), ['&', ['|', ['==', 'id', 2]], ['|', ['==', 'status', 'running']]]);
  assert.equal(combineFilters(null, running), running);
  assert.equal(combineFilters(names, null), names);
  assert.equal(combineFilters(null, null), null);
});
