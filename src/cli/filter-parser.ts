// The CLI filter language (spec/surface.md §2.5) turned into the wire filter, and
// the rules that turn `list` arguments into a filter. Ganeti parses filters with a
// pyparsing grammar; this parser follows the same combinator semantics (whitespace
// skipped before every token, `^` alternatives pick the longest match, operator
// levels probe ahead before committing) so that it accepts the same texts and
// reports errors at the same positions and with the same wording.
import { ECODE, OpPrereqError, QueryFilterParseError } from '../core/errors.ts';
import type { Filter } from '../core/query.ts';
import { pyRepr } from '../core/pyrepr.ts';

/** Where and why a filter failed to parse, as pyparsing describes it. */
export interface FilterParseDetail {
  /** The line of the filter text the error is on ("" for errors in a regexp value). */
  line: string;
  /** 1-based column on that line. */
  column: number;
  /** e.g. "Expected end of text, found '='  (at char 7), (line:1, col:8)". */
  description: string;
}

/** Characters that make a lone `list` argument a filter rather than a name. */
const FILTER_CHARS = /[()=/!~'"\\<> \t\n\r\v\f]/;
const GLOB_CHARS = /[*?]/;

// Python's re.escape() escapes exactly these.
const RE_SPECIAL = /[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g;

function pyReEscape(text: string): string {
  return text.replace(RE_SPECIAL, '\\$&');
}

/** A DNS-name glob as a regexp: `*` and `?` stay within one label, and the name may continue with more labels. */
export function dnsNameGlobPattern(pattern: string): string {
  const body = pattern.split(/([*?])/).map((part) =>
    part === '*' ? '[^.]*' : part === '?' ? '[^.]' : pyReEscape(part)).join('');
  return `^${body}(\\..*)?$`;
}

// ---------------------------------------------------------------------------
// Parser combinators with pyparsing's semantics. A parser gets a start position
// and whether parse actions run (pyparsing's lookaheads and trial parses don't
// run them), and either matches (end position and tokens) or fails at a position.

interface Match {
  end: number;
  tokens: unknown[];
}
interface Failure {
  failAt: number;
}
type Outcome = Match | Failure;
type Parser = (loc: number, actions: boolean) => Outcome;

function failed(outcome: Outcome): outcome is Failure {
  return 'failAt' in outcome;
}

/** An error raised by a parse action; it aborts the whole parse (pyparsing's ParseFatalException). */
class FatalParseError {
  readonly message: string;
  readonly loc: number;
  constructor(message: string, loc: number) {
    this.message = message;
    this.loc = loc;
  }
}

// pyparsing's default whitespace, skipped before each token.
const WHITESPACE = ' \n\t\r';
// Characters that may not touch a keyword (pyparsing's Keyword.DEFAULT_KEYWORD_CHARS).
const KEYWORD_CHARS = /[A-Za-z0-9_$]/;

function sequence(...parsers: Parser[]): Parser {
  return (loc, actions) => {
    const tokens: unknown[] = [];
    for (const parser of parsers) {
      const outcome = parser(loc, actions);
      if (failed(outcome)) return outcome;
      loc = outcome.end;
      tokens.push(...outcome.tokens);
    }
    return { end: loc, tokens };
  };
}

/** The first alternative that matches; otherwise fail where the furthest attempt failed. */
function firstOf(...parsers: Parser[]): Parser {
  return (loc, actions) => {
    let furthest = -1;
    for (const parser of parsers) {
      const outcome = parser(loc, actions);
      if (!failed(outcome)) return outcome;
      furthest = Math.max(furthest, outcome.failAt);
    }
    return { failAt: furthest };
  };
}

/** The alternative matching the most text (earliest wins ties), found by trial parses without actions. */
function longestOf(...parsers: Parser[]): Parser {
  return (loc, actions) => {
    let furthest = -1;
    let best: [Parser, Match] | null = null;
    for (const parser of parsers) {
      const outcome = parser(loc, false);
      if (failed(outcome)) furthest = Math.max(furthest, outcome.failAt);
      else if (!best || outcome.end > best[1].end) best = [parser, outcome];
    }
    if (!best) return { failAt: furthest };
    return actions ? best[0](loc, true) : best[1];
  };
}

function optional(parser: Parser, fallback: unknown[] = []): Parser {
  return (loc, actions) => {
    const outcome = parser(loc, actions);
    return failed(outcome) ? { end: loc, tokens: fallback } : outcome;
  };
}

function oneOrMore(parser: Parser): Parser {
  return (loc, actions) => {
    let outcome = parser(loc, actions);
    if (failed(outcome)) return outcome;
    const tokens = [...outcome.tokens];
    for (;;) {
      const next = parser(outcome.end, actions);
      if (failed(next)) return { end: outcome.end, tokens };
      tokens.push(...next.tokens);
      outcome = next;
    }
  };
}

/** Succeeds without consuming anything if `parser` would match here. */
function lookahead(parser: Parser): Parser {
  return (loc) => {
    const outcome = parser(loc, false);
    return failed(outcome) ? outcome : { end: loc, tokens: [] };
  };
}

/** Apply a parse action to the tokens (and the position the match was attempted at). */
function withAction(parser: Parser, action: (tokens: unknown[], start: number) => unknown[]): Parser {
  return (loc, actions) => {
    const outcome = parser(loc, actions);
    if (failed(outcome) || !actions) return outcome;
    return { end: outcome.end, tokens: action(outcome.tokens, loc) };
  };
}

/** Caches a rule's outcomes per position; the operator levels re-parse the same text a lot. */
function memoized(parser: Parser): Parser {
  const cache = [new Map<number, Outcome>(), new Map<number, Outcome>()];
  return (loc, actions) => {
    const memo = cache[actions ? 1 : 0];
    let outcome = memo.get(loc);
    if (!outcome) {
      outcome = parser(loc, actions);
      memo.set(loc, outcome);
    }
    return outcome;
  };
}

// ---------------------------------------------------------------------------
// The grammar (Ganeti's qlang.BuildFilterParser).

const FIELD_NAME = /[A-Za-z][A-Za-z0-9_/.]*/y;
const DIGITS = /[0-9]+/y;
const FLAGS = /[A-Za-z]+/y;
const COMPARISON = /==|=|!=|<=|<|>=|>/y;
// pyparsing's quotedString body: escapes and doubled quotes are allowed but kept as written.
const QUOTED_BODY: Readonly<Record<string, RegExp>> = {
  '"': /"(?:[^"\n\r\\]|""|\\(?:[^x]|x[0-9a-fA-F]+))*/y,
  "'": /'(?:[^'\n\r\\]|''|\\(?:[^x]|x[0-9a-fA-F]+))*/y,
};
const REGEXP_DELIMITERS = '/#^|';
const REGEXP_FLAGS = 'si';
// `=` is the legacy spelling of `==`; the wire form always uses `==`.
const COMPARISON_OPS: Readonly<Record<string, string>> = { '=': '==', '==': '==', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function regexpBody(delimiter: string): RegExp {
  const d = pyReEscape(delimiter);
  return new RegExp(`${d}(?:\\\\[^\\n]|[^${d}\\n\\r\\\\])*${d}`, 'y');
}

/** pyparsing's QuotedString(escChar="\\") unquoting: whitespace escapes, then any escaped character stands for itself. */
function unescapeRegexpBody(body: string): string {
  let text = body;
  if (text.includes('\\')) {
    for (const [escape, char] of [['\\t', '\t'], ['\\n', '\n'], ['\\f', '\f'], ['\\r', '\r']]) {
      text = text.split(escape).join(char);
    }
  }
  return text.replace(/\\([^\n])/g, '$1');
}

/** Why Python's re would reject `source`, approximated by compiling it as a JS RegExp. */
function regexpSyntaxError(source: string): string | null {
  let body = source;
  let flags = '';
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (inline) {
    flags = [...new Set(inline[1])].filter((f) => 'ims'.includes(f)).join('');
    body = body.slice(inline[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    new RegExp(body, flags);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^Invalid regular expression: /, '');
  }
}

interface FilterGrammar {
  filter: Parser;
  skipWhitespace: (loc: number) => number;
}

function buildFilterGrammar(text: string): FilterGrammar {
  const skipWhitespace = (loc: number): number => {
    while (loc < text.length && WHITESPACE.includes(text[loc])) loc++;
    return loc;
  };
  const token = (re: RegExp, keep = true): Parser => (loc) => {
    const at = skipWhitespace(loc);
    re.lastIndex = at;
    const m = re.exec(text);
    return m ? { end: at + m[0].length, tokens: keep ? [m[0]] : [] } : { failAt: at };
  };
  const literal = (s: string): Parser => token(new RegExp(pyReEscape(s), 'y'), false);
  const keyword = (word: string): Parser => (loc) => {
    const at = skipWhitespace(loc);
    if (!text.startsWith(word, at)) return { failAt: at };
    if (at > 0 && KEYWORD_CHARS.test(text[at - 1])) return { failAt: at - 1 };
    const after = at + word.length;
    if (after < text.length && KEYWORD_CHARS.test(text[after])) return { failAt: after };
    return { end: after, tokens: [] };
  };

  const fieldName = token(FIELD_NAME);
  const integer: Parser = (loc) => {
    const at = skipWhitespace(loc);
    // The sign must touch the digits.
    const digitsAt = text[at] === '+' || text[at] === '-' ? at + 1 : at;
    DIGITS.lastIndex = digitsAt;
    const m = DIGITS.exec(text);
    if (!m) return { failAt: digitsAt };
    const end = digitsAt + m[0].length;
    return { end, tokens: [Number(text.slice(at, end)) + 0] };
  };
  const quotedString: Parser = (loc) => {
    const at = skipWhitespace(loc);
    let furthest = at;
    for (const [quote, body] of Object.entries(QUOTED_BODY)) {
      body.lastIndex = at;
      const m = body.exec(text);
      if (!m) continue;
      const close = at + m[0].length;
      if (text[close] === quote) return { end: close + 1, tokens: [text.slice(at + 1, close)] };
      furthest = Math.max(furthest, close);
    }
    return { failAt: furthest };
  };
  const value = firstOf(integer, quotedString);

  const delimitedRegexp = firstOf(...[...REGEXP_DELIMITERS].map((d) => withAction(token(regexpBody(d)),
    ([quoted]) => [unescapeRegexpBody((quoted as string).slice(1, -1))])));
  const regexpValue = withAction(
    sequence(optional(literal('m')), delimitedRegexp, optional(token(FLAGS), [''])),
    ([body, flags], loc) => {
      const start = skipWhitespace(loc);
      const flagText = flags as string;
      const unknown = [...new Set(flagText)].filter((f) => !REGEXP_FLAGS.includes(f));
      if (unknown.length > 0) throw new FatalParseError(`Unknown regular expression flags: '${unknown.join('')}'`, start);
      const regexp = (flagText ? `(?${[...flagText].sort().join('')})` : '') + (body as string);
      const error = regexpSyntaxError(regexp);
      if (error !== null) throw new FatalParseError(`Invalid regular expression (${error})`, start);
      return [regexp];
    });

  const build = (parts: Parser[], make: (tokens: unknown[]) => unknown[]): Parser =>
    withAction(sequence(...parts), (tokens) => [make(tokens)]);
  const negated = (parser: Parser): Parser => withAction(parser, ([operand]) => [['!', operand]]);
  const regexpMatch = (op: string) => build([fieldName, literal(op), regexpValue], ([field, re]) => ['=~', field, re]);
  const globMatch = (op: string) => build([fieldName, literal(op), quotedString],
    ([field, glob]) => ['=~', field, dnsNameGlobPattern(glob as string)]);
  const condition = longestOf(
    build([fieldName, token(COMPARISON), value], ([field, op, v]) => [COMPARISON_OPS[op as string], field, v]),
    build([fieldName], ([field]) => ['?', field]),
    build([value, literal('in'), fieldName], ([v, field]) => ['=[]', field, v]),
    negated(build([value, literal('not'), literal('in'), fieldName], ([v, field]) => ['=[]', field, v])),
    regexpMatch('=~'),
    negated(regexpMatch('!~')),
    globMatch('=*'),
    negated(globMatch('!*')),
  );

  // Operator levels, tightest first: not, and, or (pyparsing's infixNotation).
  const filter: Parser = (loc, actions) => orLevel(loc, actions);
  const atom = firstOf(condition, sequence(literal('('), filter, literal(')')));
  const notKeyword = keyword('not');
  const notOperand: Parser = (loc, actions) => notLevel(loc, actions);
  const notLevel = memoized(firstOf(
    sequence(lookahead(sequence(notKeyword, notOperand)), negated(sequence(optional(notKeyword), notOperand))),
    atom));
  const binaryLevel = (operand: Parser, op: string, wire: string): Parser => {
    const opKeyword = keyword(op);
    return memoized(firstOf(
      sequence(lookahead(sequence(operand, opKeyword, operand)),
        withAction(sequence(operand, oneOrMore(sequence(opKeyword, operand))),
          (operands) => (operands.length === 1 ? operands : [[wire, ...operands]]))),
      operand));
  };
  const orLevel = binaryLevel(binaryLevel(notLevel, 'and', '&'), 'or', '|');
  return { filter, skipWhitespace };
}

// ---------------------------------------------------------------------------
// Error reporting in pyparsing's words.

// pyparsing quotes the word at the error position: up to 16 letters/digits of
// these scripts, or else the single character there.
const ERROR_WORD = /[0-9A-Za-z\u00aa\u00b2\u00b3\u00b5\u00b9\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u0374\u0376\u0377\u037a-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03e1\u03f0-\u03f5\u03f7-\u0481\u048a-\u052f\u1c80-\u1c88\u1d26-\u1d2b\u1d5e\u1d60\u1d66-\u1d6a\u1d78\u1f00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\ua640-\ua66e\ua67f-\ua69d\uab65]{1,16}/y;

/** pyparsing's ParseException text; `source` is "" for errors raised by parse actions. */
function describeError(source: string, message: string, loc: number): FilterParseDetail {
  let found = '';
  if (source !== '') {
    if (loc >= source.length) {
      found = ', found end of text';
    } else {
      ERROR_WORD.lastIndex = loc;
      const word = ERROR_WORD.exec(source)?.[0] ?? source[loc];
      found = `, found ${pyRepr(word).split('\\\\').join('\\')}`;
    }
  }
  const lineStart = loc === 0 ? 0 : source.lastIndexOf('\n', loc - 1) + 1;
  const lineEnd = source.indexOf('\n', loc);
  const lineNumber = source.slice(0, loc).split('\n').length;
  const column = loc - lineStart + 1;
  return {
    line: source.slice(lineStart, lineEnd < 0 ? undefined : lineEnd),
    column,
    description: `${message}${found}  (at char ${loc}), (line:${lineNumber}, col:${column})`,
  };
}

/**
 * Parse a filter expression into the wire filter. Throws QueryFilterParseError
 * with args [message, FilterParseDetail].
 */
export function parseFilter(text: string): unknown[] {
  let detail: FilterParseDetail;
  try {
    const grammar = buildFilterGrammar(text);
    const outcome = grammar.filter(0, true);
    if (failed(outcome)) {
      detail = describeError(text, "Expected Suppress:('or') term", outcome.failAt);
    } else {
      const end = grammar.skipWhitespace(outcome.end);
      if (end >= text.length) return outcome.tokens[0] as unknown[];
      detail = describeError(text, 'Expected end of text', end);
    }
  } catch (err) {
    if (!(err instanceof FatalParseError)) throw err;
    detail = describeError('', err.message, err.loc);
  }
  throw new QueryFilterParseError(`Failed to parse query filter '${text}': ${detail.description}`, detail);
}

/**
 * The stderr text for a filter parse error (without trailing newline):
 * "Error while parsing query filter: <message>" then the failing line, a caret
 * under the error position and pyparsing's description.
 */
export function formatFilterParseError(err: QueryFilterParseError): string {
  const [message, detail] = err.args as [string, FilterParseDetail | undefined];
  const lines = [`Error while parsing query filter: ${message}`];
  if (detail) lines.push(detail.line, `${' '.repeat(detail.column - 1)}^`, detail.description);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// List arguments to filters (Ganeti's qlang.MakeFilter).

export interface NameFilterOptions {
  /** -F/--filter: the (single) argument is a filter expression. */
  forceFilter?: boolean;
  /** The field names are compared with; "name" unless given (jobs use "id"). */
  nameField?: string;
  /** Names are numbers (job ids) and compare numerically. */
  numeric?: boolean;
}

/** Python's int() of a job id argument. */
function parseJobId(text: string): number {
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text)) {
    throw new OpPrereqError(`Invalid job ID passed: invalid literal for int() with base 10: ${pyRepr(text)}`, ECODE.INVAL);
  }
  return Number(text.replace(/_/g, '')) + 0;
}

/**
 * The filter for a list command's arguments: none for no arguments; a parsed
 * filter for -F or a lone argument that looks like one; otherwise an "or" of one
 * equality (or DNS glob match) per name.
 */
export function makeNameFilter(args: readonly string[], options: NameFilterOptions = {}): Filter {
  const field = options.nameField ?? 'name';
  if (options.forceFilter || (args.length === 1 && FILTER_CHARS.test(args[0]))) {
    if (args.length !== 1) throw new OpPrereqError('Exactly one argument must be given as a filter', ECODE.INVAL);
    return parseFilter(args[0]);
  }
  if (args.length === 0) return null;
  return ['|', ...args.map((arg) => {
    if (options.numeric) return ['==', field, parseJobId(arg)];
    return GLOB_CHARS.test(arg) ? ['=~', field, dnsNameGlobPattern(arg)] : ['==', field, arg];
  })];
}

/** A name filter and a command's own filter (e.g. job status) must both hold. */
export function combineFilters(nameFilter: Filter, ownFilter: Filter): Filter {
  if (ownFilter === null) return nameFilter;
  return nameFilter === null ? ownFilter : ['&', nameFilter, ownFilter];
}
