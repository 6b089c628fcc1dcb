// Every README's code blocks, as a reader copies them: TypeScript blocks type-check against
// the workspace packages, AssemblyScript blocks compile with livestate-guest, and shell
// blocks use only commands, scripts and flags that exist. A block that is deliberately
// partial is marked `<!-- readme-test: skip (why) -->` on the line before its fence.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codeBlocks, isAssemblyScript, readmePaths, shellCommands } from './support/readme-blocks.mjs';
import { repoRoot, run } from './support/packed-project.mjs';

const testDir = fileURLToPath(new URL('.', import.meta.url));
const snippetDir = join(testDir, 'build', 'readme');
const bin = (name) => join(testDir, 'node_modules', '.bin', name);

const blocks = readmePaths(repoRoot).flatMap((file) => codeBlocks(repoRoot, file));
const typescriptBlocks = blocks.filter((block) => ['ts', 'typescript'].includes(block.language));
const shellBlocks = blocks.filter((block) => ['sh', 'bash', 'shell'].includes(block.language));

/** `packages/server/README.md` line 12 → `packages-server-README-12`: error messages say where a block is. */
const fileNameOf = (block) => `${block.file.replace(/\.md$/, '').replace(/[/\\]/g, '-')}-${block.line}`;

describe('README code blocks', () => {
  it('finds the blocks', () => {
    assert.ok(typescriptBlocks.length >= 6 && shellBlocks.length >= 4, `found ${blocks.length} blocks`);
  });

  it('TypeScript blocks type-check as written', async () => {
    await rm(join(snippetDir, 'ts'), { recursive: true, force: true });
    await mkdir(join(snippetDir, 'ts'), { recursive: true });
    for (const block of typescriptBlocks.filter((block) => !isAssemblyScript(block))) {
      // Each block is a module of its own, so blocks may reuse names.
      await writeFile(join(snippetDir, 'ts', `${fileNameOf(block)}.ts`), `${block.code}\nexport {};\n`);
    }
    await writeFile(
      join(snippetDir, 'ts', 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          lib: ['es2023', 'dom', 'dom.iterable'],
          types: ['node'],
          module: 'esnext',
          moduleResolution: 'bundler',
          strict: true,
          experimentalDecorators: true,
          useDefineForClassFields: false,
          noEmit: true,
        },
        include: ['*.ts'],
      }),
    );
    await run(bin('tsc'), ['-p', join(snippetDir, 'ts')], { cwd: join(snippetDir, 'ts') });
  });

  it('AssemblyScript blocks compile with livestate-guest', async () => {
    await mkdir(join(snippetDir, 'as'), { recursive: true });
    await Promise.all(
      typescriptBlocks.filter(isAssemblyScript).map(async (block) => {
        const source = join(snippetDir, 'as', `${fileNameOf(block)}.ts`);
        await writeFile(source, `${block.code}\n`);
        await run(bin('livestate-guest'), [source, '-o', source.replace(/\.ts$/, '.wasm')]);
      }),
    );
  });

  it('shell blocks use commands, scripts and flags that exist', async () => {
    const problems = [];
    for (const block of shellBlocks) {
      for (const command of shellCommands(block.code)) {
        const problem = await checkCommand(command);
        if (problem) problems.push(`${block.file}:${block.line}: \`${command.join(' ')}\`: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

const rootScripts = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts;
const helpCache = new Map();
const helpOf = async (key, command, args) => {
  if (!helpCache.has(key)) helpCache.set(key, (await run(command, args)).stdout);
  return helpCache.get(key);
};

/** Help texts of the commands READMEs use, from the workspace's own builds. */
const helpTexts = {
  'livestate-guest': () => helpOf('livestate-guest', process.execPath, [join(repoRoot, 'packages/guest/bin/livestate-guest.mjs'), '--help']),
  'livestate-guest-js': () => helpOf('livestate-guest-js', process.execPath, [join(repoRoot, 'packages/guest-js/dist/cli.js'), '--help']),
  'livestate serve': () => helpOf('livestate serve', process.execPath, [join(repoRoot, 'packages/server/dist/cli/livestate.js'), 'serve', '--help']),
  asc: () => helpOf('asc', join(repoRoot, 'packages/guest/node_modules/.bin/asc'), ['--help']),
};

/** Each flag before a `--` must appear in `help` as a whole option (`-O3` counts as `-O`). */
function unknownFlags(args, help) {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end))
    .filter((word) => /^-/.test(word))
    .map((word) => word.replace(/=.*$/, '').replace(/^(-[A-Za-z])\d+$/, '$1'))
    .filter((flag) => !new RegExp(`(^|[\\s,\\[(|])${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s,=\\])|<]|$)`, 'm').test(help));
}

/** Why a command would fail for a reader, or undefined. */
async function checkCommand(words) {
  if (/^[A-Z_]+=/.test(words[0])) return checkCommand(words.slice(1)); // PORT=5000 pnpm start
  const [program, ...args] = words;
  switch (program) {
    case 'pnpm':
    case 'npx':
      return checkPnpm(program === 'npx' ? ['exec', ...args] : args);
    case 'livestate-guest':
    case 'livestate-guest-js':
      return flagProblem(args, await helpTexts[program]());
    case 'livestate':
      if (args[0] !== 'serve') return `livestate has no command '${args[0]}'`;
      return flagProblem(args.slice(1), await helpTexts['livestate serve']());
    case 'asc':
      return flagProblem(args, await helpTexts.asc());
    case 'npm':
      return ['install', 'i'].includes(args[0]) ? undefined : `npm ${args[0]} is not checked: teach test/readme.test.mjs`;
    case 'bash': {
      const script = join(repoRoot, args[0]);
      if (!existsSync(script)) return `no such script ${args[0]}`;
      return flagProblem(args.slice(1), readFileSync(script, 'utf8'));
    }
    default:
      return `unknown command '${program}': teach test/readme.test.mjs to check it`;
  }
}

const flagProblem = (args, help) => {
  const unknown = unknownFlags(args, help);
  return unknown.length ? `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : undefined;
};

async function checkPnpm([first, ...rest]) {
  if (first === 'exec') return checkCommand(rest);
  if (first === '-C') {
    const [dir, script] = rest;
    const scripts = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')).scripts ?? {};
    return script in scripts ? undefined : `${dir} has no script '${script}'`;
  }
  if (['install', 'add'].includes(first)) return undefined;
  return first in rootScripts ? undefined : `the root package.json has no script '${first}'`;
}
