// The command overview `gnt-X`, `gnt-X --help` and unknown subcommands print
// (spec/surface.md §0.1), with descriptions wrapped the way Python's textwrap does.

// Pieces of textwrap.TextWrapper.wordsep_re, with Python's \w approximated by
// letters, digits and "_".
const WORD = String.raw`[\p{L}\p{N}_]`;
const WORD_PUNCT = String.raw`[\p{L}\p{N}_!"'&.,?]`;
const LETTER = String.raw`[\p{L}_]`;
const SPACE = String.raw`[\t\n\v\f\r ]`;
const NON_SPACE = String.raw`[^\t\n\v\f\r ]`;
// Splits into whitespace runs, em-dashes, and words that may break after a hyphen between letters.
const WORD_SEPARATOR = new RegExp(String.raw`(${SPACE}+|(?<=${WORD_PUNCT})-{2,}(?=${WORD})|${NON_SPACE}+?(?:-(?:(?<=${LETTER}{2}-)|(?<=${LETTER}-${LETTER}-))(?=${LETTER}-?${LETTER})|(?=${SPACE}|$)|(?<=${WORD_PUNCT})(?=-{2,}${WORD})))`, 'u');

/** str.expandtabs(8). */
function expandTabs(text: string): string {
  let column = 0;
  let out = '';
  for (const ch of text) {
    if (ch === '\t') {
      const spaces = 8 - (column % 8);
      out += ' '.repeat(spaces);
      column += spaces;
    } else {
      out += ch;
      column = ch === '\n' || ch === '\r' ? 0 : column + 1;
    }
  }
  return out;
}

/** Python's textwrap.wrap(text, width) with its default options. */
export function wrapText(text: string, width: number): string[] {
  const chunks = expandTabs(text).replace(/[\t\n\v\f\r]/g, ' ')
    .split(WORD_SEPARATOR).filter((c) => c !== '').reverse();
  const isBlank = (s: string) => s.trim() === '';
  const lines: string[] = [];
  while (chunks.length > 0) {
    const line: string[] = [];
    let length = 0;
    // Whitespace never starts a continuation line.
    if (lines.length > 0 && isBlank(chunks[chunks.length - 1])) chunks.pop();
    while (chunks.length > 0 && length + chunks[chunks.length - 1].length <= width) {
      const chunk = chunks.pop() as string;
      line.push(chunk);
      length += chunk.length;
    }
    if (chunks.length > 0 && chunks[chunks.length - 1].length > width) {
      // A word longer than a whole line is cut, preferably after a hyphen.
      const chunk = chunks[chunks.length - 1];
      const room = width < 1 ? 1 : width - length;
      const hyphen = chunk.slice(0, room).lastIndexOf('-');
      const end = hyphen > 0 && /[^-]/.test(chunk.slice(0, hyphen)) ? hyphen + 1 : room;
      line.push(chunk.slice(0, end));
      chunks[chunks.length - 1] = chunk.slice(end);
    }
    if (line.length > 0 && isBlank(line[line.length - 1])) line.pop();
    if (line.length > 0) lines.push(line.join(''));
  }
  return lines;
}

/**
 * The usage text for binary `binary` given each subcommand's one-line description;
 * the lines end with an empty one, as Ganeti prints a blank line last.
 */
export function formatUsage(binary: string, commands: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(commands).sort();
  const nameWidth = Math.min(60, Math.max(0, ...names.map((n) => n.length)));
  const lines = [
    `Usage: ${binary} {command} [options...] [argument...]`,
    `${binary} <command> --help to see details, or man ${binary}`,
    '',
    'Commands:',
  ];
  for (const name of names) {
    const [first = '', ...rest] = wrapText(commands[name], 79 - 3 - nameWidth);
    lines.push(` ${name.padEnd(nameWidth)} - ${first}`);
    for (const line of rest) lines.push(` ${''.padEnd(nameWidth)}   ${line}`);
  }
  lines.push('');
  return lines;
}
