// Every README's code blocks, as a reader copies them: TypeScript blocks type-check against
// the workspace packages, AssemblyScript blocks compile with livestate-guest, and shell
// blocks use only commands, scripts and flags that exist. A block that is deliberately
// partial is marked `<!-- readme-test: skip (why) -->` on the line before its fence.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

  it('JSON blocks parse', () => {
    for (const block of blocks.filter((block) => block.language === 'json')) {
      assert.doesNotThrow(() => JSON.parse(block.code), `${block.file}:${block.line} is not JSON`);
    }
  });

  it('shell blocks use commands, scripts and flags that exist', async () => {
    const problems = [];
    for (const block of shellBlocks) {
      for (const command of shellCommands(block.code)) {
        const problem = await checkCommand(command, dirname(block.file));
        if (problem) problems.push(`${block.file}:${block.line}: \`${command.join(' ')}\`: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** The commands the workspace's packages install (`bin`), by name → their script. */
const workspaceBins = new Map(
  readdirSync(join(repoRoot, 'packages')).flatMap((name) => {
    const manifest = join(repoRoot, 'packages', name, 'package.json');
    if (!existsSync(manifest)) return [];
    const { bin: bins = {} } = readJson(manifest);
    return Object.entries(bins).map(([command, script]) => [command, join(repoRoot, 'packages', name, script)]);
  }),
);

const helpCache = new Map();
/** The `--help` output of a command (of its subcommand, for `livestate serve`). */
function helpOf(program, args) {
  const key = [program, ...args].join(' ');
  if (!helpCache.has(key)) {
    const command = workspaceBins.has(program)
      ? [process.execPath, workspaceBins.get(program)]
      : [join(repoRoot, 'packages', 'guest', 'node_modules', '.bin', program)];
    helpCache.set(key, run(command[0], [...command.slice(1), ...args, '--help']).then(({ stdout, stderr }) => stdout + stderr));
  }
  return helpCache.get(key);
}

/** Each flag before a `--` must appear in `help` as a whole option (`-O3` counts as `-O`). */
function flagProblem(args, help) {
  const end = args.indexOf('--');
  const unknown = (end === -1 ? args : args.slice(0, end))
    .filter((word) => /^-/.test(word))
    .map((word) => word.replace(/=.*$/, '').replace(/^(-[A-Za-z])\d+$/, '$1'))
    .filter((flag) => !new RegExp(`(^|[\\s,\\[(|])${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s,=\\])|<]|$)`, 'm').test(help));
  return unknown.length ? `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}` : undefined;
}

/** A subcommand is a plain word (`serve`), not a file (`todo.ts`) or an option. */
const isSubcommand = (word) => /^[a-z][a-z-]*$/.test(word ?? '');

/** Why a command of a README in `readmeDir` would fail for a reader, or undefined. */
async function checkCommand(words, readmeDir) {
  if (/^[A-Z_]+=/.test(words[0])) return checkCommand(words.slice(1), readmeDir); // PORT=5000 pnpm start
  const [program, ...args] = words;
  if (program === 'pnpm' || program === 'npx') return checkPnpm(program === 'npx' ? ['exec', ...args] : args, readmeDir);
  if (program === 'npm') return ['install', 'i'].includes(args[0]) ? undefined : `npm ${args[0]} is not checked: teach test/readme.test.mjs`;
  if (program === 'bash') {
    const script = join(repoRoot, args[0]);
    return existsSync(script) ? flagProblem(args.slice(1), readFileSync(script, 'utf8')) : `no such script ${args[0]}`;
  }
  if (workspaceBins.has(program) || program === 'asc') {
    const subcommand = isSubcommand(args[0]) ? [args[0]] : [];
    return flagProblem(args.slice(subcommand.length), await helpOf(program, subcommand));
  }
  return `unknown command '${program}': teach test/readme.test.mjs to check it`;
}

/** `pnpm <script>` runs a script of the README's own package or of the repository root. */
async function checkPnpm([first, ...rest], readmeDir) {
  if (first === 'exec') return checkCommand(rest, readmeDir);
  if (first === '-C') return checkPnpm(rest.slice(1), rest[0]);
  if (['install', 'add'].includes(first)) return undefined;
  const scripts = [readmeDir, '.']
    .map((dir) => join(repoRoot, dir, 'package.json'))
    .filter(existsSync)
    .flatMap((manifest) => Object.keys(readJson(manifest).scripts ?? {}));
  return scripts.includes(first) ? undefined : `no script '${first}' in ${readmeDir}/package.json or the root's`;
}
