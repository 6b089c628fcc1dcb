// The fenced code blocks of the repository's READMEs, for the test that compiles and checks them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Put `<!-- readme-test: skip (why) -->` on the line before a fence to leave a block out,
 * for one that is deliberately partial. Use it sparingly: a skipped block is not tested.
 */
const skipMarker = /<!--\s*readme-test:\s*skip\b/;

/** Every README.md that git tracks. */
export function readmePaths(repoRoot) {
  return execFileSync('git', ['ls-files', '*README.md'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/**
 * The blocks of one README: `{file, line, language, code}`, `line` being the fence's
 * 1-based line. `language` is the fence's info word (`ts`, `sh`, ...), or '' when it has none.
 */
export function codeBlocks(repoRoot, file) {
  const lines = readFileSync(join(repoRoot, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, language] = open;
    const start = i;
    const code = [];
    for (i++; i < lines.length && !lines[i].startsWith(`${indent}${fence}`); i++) code.push(lines[i].slice(indent.length));
    const skipped = start > 0 && skipMarker.test(lines[start - 1]);
    if (!skipped) blocks.push({ file, line: start + 1, language: language.toLowerCase(), code: code.join('\n') });
  }
  return blocks;
}

/** An AssemblyScript handler rather than TypeScript: it imports the guest library. */
export const isAssemblyScript = (block) => /from ['"]@livestate\/guest['"]/.test(block.code);

/**
 * The commands of a shell block, one per line (continuations joined, comments and prompts
 * dropped), each split at `&&`, `||`, `;` and `|` into `[program, ...args]`.
 */
export function shellCommands(code) {
  return code
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').replace(/^\$\s+/, '').trim())
    .filter(Boolean)
    .flatMap((line) => line.split(/\s*(?:&&|\|\||;|\|)\s*/))
    .map((command) => (command.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((word) => word.replace(/^(['"])(.*)\1$/, '$2')))
    .filter((words) => words.length > 0);
}
