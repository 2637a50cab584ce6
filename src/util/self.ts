// How to run this program again: the single executable re-executes itself; a plain
// `node bundle.cjs` run must repeat the script path (child_process.fork would run the
// embedded main with the path as an argument instead, see build.md).

function isSea(): boolean {
  try {
    const sea = process.getBuiltinModule('node:sea') as { isSea(): boolean } | undefined;
    return sea?.isSea() ?? false;
  } catch {
    return false;
  }
}

export function selfCommand(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]];
}
